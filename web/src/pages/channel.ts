// A channel's page (/c/{handle}): banner, avatar, name, subscribers and the subscribe button;
// tabs for its videos, its shorts and what it is about. Its owner customises it here: name,
// handle, description, links, avatar and banner, and deletes it. My channels (/channels):
// the ones I own, a new one, and the ones I follow.
import {
  ApiError,
  call,
  currentUser,
  forgetMyChannels,
  get,
  isAdmin,
  myChannels,
  PICTURE_TYPES,
  putPicture,
  type Channel,
  type ChannelPatch,
  type Link,
  type PictureKind,
  type User,
} from "../api";
import { infiniteList } from "../cards";
import { h } from "../dom";
import { formatDate } from "../format";
import { t, tCompact, type Key } from "../i18n";
import { channelLimits } from "../limits";
import { problemText } from "../messages";
import { safeHref, UGC_REL, richText } from "../richtext";
import { navigate, type Cleanup, type PageFn } from "../router";
import { playlistCard } from "../playlists";
import { blockUser, menu, reportDialog } from "../safety";
import { avatar, subscribeButton, toLogin } from "../social";

type Tab = "videos" | "shorts" | "playlists" | "about";
const TABS: Tab[] = ["videos", "shorts", "playlists", "about"];
const TAB_LABELS: Record<Tab, Key> = { videos: "channel.videos", shorts: "channel.shorts", playlists: "channel.playlists", about: "channel.about" };

/** A channel's playlists (public ones; all of them for its owner), as cards. */
function channelPlaylists(root: HTMLElement, handle: string): void {
  const grid = h("div.grid", { dataset: { testid: "channel-playlists" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const load = async () => {
    try {
      const page = await get("/api/v1/channels/{handle}/playlists", { path: { handle }, query: { cursor, limit: 24 } });
      grid.append(...page.items.map(playlistCard));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = grid.childElementCount ? "" : t("channel.noplaylists");
    } catch (e) {
      status.textContent = problemText(e);
    }
  };
  more.addEventListener("click", () => void load());
  root.append(grid, status, more);
  void load();
}

/** The channel's "⋯" menu: report it, block its owner. */
function channelMenu(c: Channel, user: User | null): HTMLElement {
  const owner = c.owner.username;
  return menu("channel-menu", [
    { label: t("report.action"), testid: "channel-report", run: () => (user ? reportDialog("channel", c.id) : toLogin()) },
    ...(user && owner !== user.username ? [{ label: t("block.action"), testid: "channel-block", danger: true, run: () => void blockUser(owner) }] : []),
  ]);
}

const channelPath = (handle: string, tab: Tab = "videos") => `/c/${encodeURIComponent(handle)}${tab === "videos" ? "" : `?tab=${tab}`}`;


/** A channel's link, opened in a new tab; only http(s) addresses are links at all. */
function linkEl(l: Link): HTMLElement {
  const href = safeHref(l.url);
  const title = l.title || l.url;
  return href ? h("a.ext", { href, rel: UGC_REL, target: "_blank" }, title) : h("span", {}, title);
}

function about(c: Channel): HTMLElement {
  return h(
    "div.channel-about",
    { dataset: { testid: "channel-about" } },
    h(
      "section",
      {},
      h("h2", {}, t("channel.description")),
      c.description ? h("p.description", { dir: "auto", dataset: { testid: "channel-description" } }, richText(c.description)) : h("p.muted", {}, t("channel.nodescription")),
      c.links.length ? h("h2", {}, t("channel.links")) : null,
      c.links.length ? h("ul.channel-links", { dataset: { testid: "channel-links" } }, c.links.map((l) => h("li", {}, linkEl(l)))) : null,
    ),
    h(
      "section.channel-stats",
      {},
      h("h2", {}, t("channel.stats")),
      h("p", { dataset: { testid: "about-subscribers" } }, t("channel.subscribers", { n: c.subscribers })),
      h("p", { dataset: { testid: "about-views" } }, t("channel.totalviews", { n: c.views })),
      h("p", {}, t("channel.joined", { date: formatDate(c.created_at) })),
    ),
  );
}

/** The first picture of a file input that the server takes, else an error message. */
function pictureOf(input: HTMLInputElement): File | string | null {
  const file = input.files?.[0];
  if (!file) return null;
  if (!(PICTURE_TYPES as readonly string[]).includes(file.type)) return t("error.not_an_image");
  if (file.size > 10 * 1024 * 1024) return t("error.picture_too_large");
  return file;
}

/** The owner's panel: the fields, the pictures and deleting the channel. */
function editor(c: Channel, done: (changed: Channel | null) => void): HTMLElement {
  const name = h("input", { name: "display_name", value: c.display_name, maxLength: channelLimits.displayName, required: true, dataset: { testid: "edit-name" } });
  const handle = h("input", {
    name: "handle",
    value: c.handle,
    minLength: channelLimits.handle.min,
    maxLength: channelLimits.handle.max,
    pattern: "[\\p{L}\\p{N}][\\p{L}\\p{N}_.\\-]*",
    required: true,
    dataset: { testid: "edit-handle" },
  });
  const description = h("textarea", { name: "description", rows: 5, maxLength: channelLimits.description, dataset: { testid: "channel-description-input" } });
  description.value = c.description;
  const links = h("div.link-rows");
  const addLink = h("button", { type: "button", dataset: { testid: "add-link" } }, t("channel.link.add"));
  const linkRow = (l: Link = { title: "", url: "" }) => {
    const row = h(
      "div.link-row",
      { dataset: { testid: "link-row" } },
      h("input", { name: "link-title", value: l.title, maxLength: channelLimits.linkTitle, placeholder: t("channel.link.title"), "aria-label": t("channel.link.title") }),
      h("input", { name: "link-url", type: "url", value: l.url, maxLength: channelLimits.linkUrl, placeholder: t("channel.link.url"), "aria-label": t("channel.link.url") }),
      h("button.link.danger", { type: "button", onclick: () => (row.remove(), limitLinks()) }, t("channel.link.remove")),
    );
    links.append(row);
    limitLinks();
  };
  const limitLinks = () => {
    addLink.disabled = links.childElementCount >= channelLimits.links;
  };
  addLink.addEventListener("click", () => linkRow());
  c.links.forEach((l) => linkRow(l));
  const message = h("div.form-message", { role: "status", dataset: { testid: "channel-message" } });
  const save = h("button.primary", { type: "submit", dataset: { testid: "channel-save" } }, t("channel.save"));
  const form = h(
    "form.channel-form",
    {},
    h("label", {}, t("channel.field.name"), name),
    h("label", {}, t("channel.field.handle"), handle, h("span.muted.hint", {}, t("channels.handlehint"))),
    h("label", {}, t("channel.field.description"), description),
    h("fieldset", {}, h("legend", {}, t("channel.field.links", { n: channelLimits.links })), links, addLink),
    h("div.form-actions", {}, save, h("button", { type: "button", onclick: () => done(null) }, t("channel.cancel"))),
    message,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const patch: ChannelPatch = {};
    if (name.value.trim() !== c.display_name) patch.display_name = name.value.trim();
    if (handle.value.trim() !== c.handle) patch.handle = handle.value.trim();
    if (description.value !== c.description) patch.description = description.value;
    const wanted: Link[] = [...links.querySelectorAll(".link-row")]
      .map((row) => {
        const [title, url] = row.querySelectorAll("input");
        return { title: title.value.trim(), url: url.value.trim() };
      })
      .filter((l) => l.title || l.url)
      .map((l) => ({ title: l.title || l.url, url: l.url }));
    if (JSON.stringify(wanted) !== JSON.stringify(c.links)) patch.links = wanted;
    if (!Object.keys(patch).length) return done(null);
    save.disabled = true;
    message.textContent = "";
    message.classList.remove("error");
    call("patch", "/api/v1/channels/{handle}", { path: { handle: c.handle }, body: patch })
      .then((updated) => {
        forgetMyChannels();
        message.textContent = t("channel.saved");
        done(updated);
      })
      .catch((err: unknown) => {
        message.textContent = problemText(err);
        message.classList.add("error");
      })
      .finally(() => {
        save.disabled = false;
      });
  });

  // Pictures: sent as they are; the worker crops and resizes them, then the channel has them.
  const picture = (kind: PictureKind) => {
    const input = h("input", { type: "file", accept: PICTURE_TYPES.join(","), hidden: true, dataset: { testid: `${kind}-file` } });
    const status = h("span.muted", { role: "status", dataset: { testid: `${kind}-status` } });
    const current = c[kind];
    const preview = kind === "avatar" ? avatar(c.display_name, current, "large") : h("div.banner-preview", {}, current ? h("img", { src: current.small ?? current.url, alt: "" }) : null);
    const choose = h("button", { type: "button", onclick: () => input.click() }, t("channel.picture.choose"));
    const remove = h("button.link.danger", { type: "button", hidden: !current, dataset: { testid: `${kind}-remove` } }, t("channel.picture.remove"));
    input.addEventListener("change", () => {
      const file = pictureOf(input);
      input.value = "";
      if (file === null) return;
      if (typeof file === "string") {
        status.textContent = file;
        return;
      }
      status.textContent = t("channel.picture.processing");
      const before = c[kind]?.url ?? null;
      putPicture(c.handle, kind, file)
        .then(() => waitForPicture(c.handle, kind, before))
        .then((after) => {
          status.textContent = after ? t("channel.picture.done") : t("channel.picture.slow");
          if (after) done(after);
        })
        .catch((err: unknown) => {
          status.textContent = problemText(err);
        });
    });
    remove.addEventListener("click", () => {
      call("delete", "/api/v1/channels/{handle}/pictures/{image}", { path: { handle: c.handle, image: kind } })
        .then(() => get("/api/v1/channels/{handle}", { path: { handle: c.handle } }))
        .then((updated) => done(updated))
        .catch((err: unknown) => {
          status.textContent = problemText(err);
        });
    });
    return h(
      "div.picture-row",
      { dataset: { testid: `${kind}-row` } },
      h("strong", {}, kind === "avatar" ? t("channel.avatar") : t("channel.banner")),
      preview,
      h("div.picture-actions", {}, choose, remove, h("span.muted.hint", {}, t("channel.picture.hint")), status),
      input,
    );
  };

  // Deleting: the handle typed again.
  const confirmInput = h("input", { "aria-label": t("channel.delete.confirm"), placeholder: c.handle, autocomplete: "off", dataset: { testid: "delete-confirm" } });
  const del = h("button.danger", { type: "button", disabled: true, dataset: { testid: "channel-delete" } }, t("channel.delete"));
  const delMessage = h("div.error", { role: "alert", hidden: true, dataset: { testid: "delete-error" } });
  confirmInput.addEventListener("input", () => {
    del.disabled = confirmInput.value.trim() !== c.handle;
  });
  del.addEventListener("click", () => {
    del.disabled = true;
    call("delete", "/api/v1/channels/{handle}", { path: { handle: c.handle }, query: { confirm: confirmInput.value.trim() } })
      .then(() => {
        forgetMyChannels();
        navigate("/channels");
      })
      .catch((err: unknown) => {
        delMessage.textContent = problemText(err);
        delMessage.hidden = false;
        del.disabled = false;
      });
  });

  return h(
    "div.channel-editor",
    { dataset: { testid: "channel-editor" } },
    form,
    h("div.pictures", {}, picture("avatar"), picture("banner")),
    h(
      "details.danger-zone",
      {},
      h("summary", {}, t("channel.delete")),
      h("p", {}, t("channel.delete.warning", { handle: c.handle })),
      h("div.form-actions", {}, confirmInput, del),
      delMessage,
    ),
  );
}

/** Polls the channel until its `kind` picture is another than `before` (the worker made it);
 * the channel then, or null after a while. */
async function waitForPicture(handle: string, kind: PictureKind, before: string | null, ms = 30_000): Promise<Channel | null> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    await new Promise((ok) => setTimeout(ok, 1000));
    const c = await get("/api/v1/channels/{handle}", { path: { handle } });
    const now = c[kind]?.url ?? null;
    if (now && now !== before) return c;
  }
  return null;
}

export const channel: PageFn = async (root, [handle], url) => {
  const tabParam = url.searchParams.get("tab");
  const tab: Tab = TABS.includes(tabParam as Tab) ? (tabParam as Tab) : "videos";
  let c: Channel;
  let user: User | null;
  try {
    [c, user] = await Promise.all([get("/api/v1/channels/{handle}", { path: { handle } }), currentUser()]);
  } catch (e) {
    const gone = e instanceof ApiError && e.status === 404;
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, gone ? t("video.notfound") : problemText(e)));
    return;
  }
  const manage = c.mine || isAdmin(user);
  let stop: Cleanup;
  const page = h("div.channel-page");
  root.append(page);

  const draw = (ch: Channel) => {
    c = ch;
    if (typeof stop === "function") stop();
    stop = undefined;
    const subscribers = h("span", { dataset: { testid: "subscribers" } }, tCompact("channel.subscribers", c.subscribers));
    const subscribe = subscribeButton(c, user, (n) => {
      subscribers.textContent = tCompact("channel.subscribers", n);
    });
    const edit = manage ? h("button", { type: "button", dataset: { testid: "channel-edit" } }, t("channel.edit")) : null;
    const panel = h("div.channel-panel", { hidden: true });
    edit?.addEventListener("click", () => {
      panel.hidden = !panel.hidden;
      if (!panel.hidden) {
        panel.replaceChildren(
          editor(c, (changed) => {
            if (!changed) return void (panel.hidden = true);
            // A new handle is a new address.
            if (changed.handle !== handle) return navigate(channelPath(changed.handle, tab), true);
            draw(changed);
          }),
        );
      }
    });
    const body = h("div.channel-body");
    page.replaceChildren(
      h("div.channel-banner", { dataset: { testid: "channel-banner" } }, c.banner ? h("img", { src: c.banner.url, alt: "" }) : null),
      h(
        "header.channel-head",
        {},
        avatar(c.display_name, c.avatar, "large"),
        h(
          "div.channel-title",
          {},
          h("h1", { dataset: { testid: "channel-name" } }, h("bdi", {}, c.display_name)),
          h("div.muted", {}, h("bdi", { dataset: { testid: "channel-handle" } }, `@${c.handle}`), " · ", subscribers),
          c.description ? h("p.channel-desc", {}, h("bdi", {}, c.description.split("\n")[0])) : null,
        ),
        h(
          "div.channel-actions",
          {},
          subscribe,
          c.mine ? h("a.button", { href: `/upload?channel=${encodeURIComponent(c.handle)}`, dataset: { testid: "channel-upload" } }, t("channel.upload")) : null,
          edit,
          c.mine ? null : channelMenu(c, user),
        ),
      ),
      panel,
      h(
        "nav.tabs",
        {},
        TABS.map((x) =>
          h(
            "a.tab",
            { href: channelPath(c.handle, x), "aria-current": x === tab ? "page" : undefined, dataset: { testid: `tab-${x}` } },
            t(TAB_LABELS[x]),
          ),
        ),
      ),
      body,
    );
    if (tab === "about") body.append(about(c));
    else if (tab === "playlists") channelPlaylists(body, c.handle);
    else {
      const kind = tab;
      stop = infiniteList(body, (cursor) => get("/api/v1/channels/{handle}/videos", { path: { handle: c.handle }, query: { kind, cursor, limit: 24 } }), t("list.empty"));
    }
  };
  draw(c);
  return () => {
    if (typeof stop === "function") stop();
  };
};

function channelRow(c: Channel): HTMLElement {
  return h(
    "a.channel-row",
    { href: channelPath(c.handle), dataset: { testid: "channel-row", handle: c.handle } },
    avatar(c.display_name, c.avatar),
    h("div", {}, h("div.card-title", {}, h("bdi", {}, c.display_name)), h("div.muted", {}, h("bdi", {}, `@${c.handle}`), " · ", tCompact("channel.subscribers", c.subscribers))),
  );
}

export const channels: PageFn = async (root) => {
  if (!(await currentUser())) {
    navigate("/login?next=/channels", true);
    return;
  }
  root.append(h("h1.page-title", {}, t("channels.title")));
  const mine = h("div.channel-list", { dataset: { testid: "my-channels" } });
  root.append(mine);
  try {
    const list = await myChannels();
    mine.replaceChildren(...(list.length ? list.map(channelRow) : [h("p.muted", {}, t("channels.empty"))]));
  } catch (e) {
    mine.replaceChildren(h("p.error", {}, problemText(e)));
  }

  const handle = h("input", {
    name: "handle",
    required: true,
    minLength: channelLimits.handle.min,
    maxLength: channelLimits.handle.max,
    pattern: "[\\p{L}\\p{N}][\\p{L}\\p{N}_.\\-]*",
    autocomplete: "off",
    dataset: { testid: "new-handle" },
  });
  const name = h("input", { name: "display_name", maxLength: channelLimits.displayName, dataset: { testid: "new-name" } });
  const description = h("textarea", { name: "description", rows: 3, maxLength: channelLimits.description });
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "create-error" } });
  const create = h("button.primary", { type: "submit", dataset: { testid: "create-channel" } }, t("channels.create"));
  const form = h(
    "form.channel-form.create",
    {},
    h("h2", {}, t("channels.create")),
    h("label", {}, t("channel.field.handle"), handle, h("span.muted.hint", {}, t("channels.handlehint"))),
    h("label", {}, t("channel.field.name"), name),
    h("label", {}, t("channel.field.description"), description),
    create,
    error,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    create.disabled = true;
    error.hidden = true;
    call("post", "/api/v1/channels", {
      body: { handle: handle.value.trim(), display_name: name.value.trim() || null, description: description.value || null },
    })
      .then((c) => {
        forgetMyChannels();
        navigate(channelPath(c.handle));
      })
      .catch((err: unknown) => {
        error.textContent = problemText(err);
        error.hidden = false;
      })
      .finally(() => {
        create.disabled = false;
      });
  });
  root.append(form);

  const following = h("div.channel-list", { dataset: { testid: "subscriptions" } });
  root.append(h("h2", {}, t("channels.following")), following);
  let cursor: string | undefined;
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  const load = async () => {
    try {
      const page = await get("/api/v1/me/subscriptions", { query: { cursor, limit: 48 } });
      following.append(...page.items.map(channelRow));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      if (!following.childElementCount) following.append(h("p.muted", {}, t("channels.nofollowing")));
    } catch (e) {
      following.append(h("p.error", {}, problemText(e)));
    }
  };
  more.addEventListener("click", () => void load());
  root.append(more);
  await load();
};
