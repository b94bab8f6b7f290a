// My playlists (/playlists: Watch later first, a new one) and a playlist's page
// (/playlist/{id}): its title, description and visibility (edited by its owner), "Play all",
// and its entries in order, which its owner reorders by dragging or with the up and down
// buttons (keyboard and phone), and removes.
import { ApiError, call, currentUser, get, myChannels, type Playlist, type Video } from "../api";
import { watchedBar } from "../cards";
import { h } from "../dom";
import { formatDuration } from "../format";
import { t } from "../i18n";
import { playlistLimits } from "../limits";
import { dropIndex, moveItem } from "../lists";
import { privacyLabel, problemText } from "../messages";
import { chosenPrivacy, inListHref, playlistCard, playlistHref, playlistTitle, privacySelect, requestAutoplay } from "../playlists";
import { richText } from "../richtext";
import { navigate, type PageFn } from "../router";

/** Which of my channels a playlist is shown on (none: only on its own page). */
function channelSelect(current: string | null | undefined, testid: string): HTMLSelectElement {
  const select = h("select", { name: "channel", "aria-label": t("playlist.field.channel"), dataset: { testid } }, h("option", { value: "" }, t("playlist.nochannel")));
  myChannels()
    .then((list) => {
      select.append(...list.map((c) => h("option", { value: c.handle, selected: c.handle === current }, c.display_name)));
    })
    .catch(() => {});
  return select;
}

export const playlists: PageFn = async (root) => {
  if (!(await currentUser())) {
    navigate("/login?next=/playlists", true);
    return;
  }
  const grid = h("div.grid", { dataset: { testid: "my-playlists" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/me/playlists", { query: { cursor, limit: 48 } });
      grid.append(...page.items.map(playlistCard));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = grid.childElementCount ? "" : t("playlists.empty");
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());

  const title = h("input", { name: "title", required: true, maxLength: playlistLimits.title, dataset: { testid: "playlist-title-input" } });
  const description = h("textarea", { name: "description", rows: 2, maxLength: playlistLimits.description });
  const privacy = privacySelect("private", "playlist-privacy-input");
  const channel = channelSelect(null, "playlist-channel-input");
  const error = h("div.error", { role: "alert", hidden: true });
  const create = h("button.primary", { type: "submit", dataset: { testid: "playlist-create" } }, t("playlist.create"));
  const form = h(
    "form.channel-form.create",
    {},
    h("h2", {}, t("playlist.new")),
    h("label", {}, t("playlist.field.title"), title),
    h("label", {}, t("playlist.field.description"), description),
    h("label", {}, t("upload.field.privacy"), privacy),
    h("label", {}, t("playlist.field.channel"), channel),
    create,
    error,
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    create.disabled = true;
    error.hidden = true;
    call("post", "/api/v1/playlists", { body: { title: title.value.trim(), description: description.value || null, privacy: chosenPrivacy(privacy), channel: channel.value || null } })
      .then((p) => navigate(playlistHref(p.id)))
      .catch((err: unknown) => {
        error.textContent = problemText(err);
        error.hidden = false;
      })
      .finally(() => {
        create.disabled = false;
      });
  });
  root.append(h("h1.page-title", {}, t("playlists.title")), grid, status, more, form);
  await load();
};

/** The owner's form: title, description, visibility; and deleting it (not Watch later). */
function editor(p: Playlist, done: (changed: Playlist | null) => void): HTMLElement {
  const title = h("input", { name: "title", required: true, value: p.title, maxLength: playlistLimits.title, dataset: { testid: "playlist-edit-title" } });
  const description = h("textarea", { name: "description", rows: 3, maxLength: playlistLimits.description, dataset: { testid: "playlist-edit-description" } });
  description.value = p.description;
  const privacy = privacySelect(p.privacy, "playlist-edit-privacy");
  const channel = channelSelect(p.channel_handle, "playlist-edit-channel");
  const error = h("div.error", { role: "alert", hidden: true });
  const save = h("button.primary", { type: "submit", dataset: { testid: "playlist-save" } }, t("channel.save"));
  const del = h("button.danger", { type: "button", dataset: { testid: "playlist-delete" } }, t("playlist.delete"));
  const form = h(
    "form.channel-form",
    { dataset: { testid: "playlist-editor" } },
    h("label", {}, t("playlist.field.title"), title),
    h("label", {}, t("playlist.field.description"), description),
    h("label", {}, t("upload.field.privacy"), privacy),
    h("label", {}, t("playlist.field.channel"), channel),
    h("div.form-actions", {}, save, h("button", { type: "button", onclick: () => done(null) }, t("channel.cancel")), del),
    error,
  );
  const fail = (e: unknown) => {
    error.textContent = problemText(e);
    error.hidden = false;
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.hidden = true;
    save.disabled = true;
    const body = {
      title: title.value.trim(),
      description: description.value,
      privacy: chosenPrivacy(privacy),
      // Another channel when one is chosen (none leaves it where it is).
      ...(channel.value && channel.value !== p.channel_handle ? { channel: channel.value } : {}),
    };
    call("patch", "/api/v1/playlists/{id}", { path: { id: p.id }, body })
      .then(done)
      .catch(fail)
      .finally(() => {
        save.disabled = false;
      });
  });
  del.addEventListener("click", () => {
    if (!confirm(t("playlist.deleteconfirm", { title: p.title }))) return;
    call("delete", "/api/v1/playlists/{id}", { path: { id: p.id } })
      .then(() => navigate("/playlists"))
      .catch(fail);
  });
  return form;
}

/** What its owner is told of a playlist's review: waiting, or rejected and why. */
function reviewLine(p: Playlist): HTMLElement | null {
  const m = p.moderation;
  if (!m || m.state === "approved") return null;
  const text = m.state === "pending" ? t("playlist.pending") : t("playlist.rejected", { reason: m.reason ?? "" });
  return h("div.video-status", { dataset: { testid: "playlist-review", state: m.state } }, text);
}

export const playlist: PageFn = async (root, [id]) => {
  let p: Playlist;
  try {
    p = await get("/api/v1/playlists/{id}", { path: { id } });
  } catch (e) {
    const gone = e instanceof ApiError && e.status === 404;
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, gone ? t("playlist.notfound") : problemText(e)));
    return;
  }
  const head = h("header.playlist-head");
  const panel = h("div.channel-panel", { hidden: true });
  const entries = h("ol.playlist-entries", { dataset: { testid: "playlist-entries" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "playlist-error" } });
  const fail = (e: unknown) => {
    error.textContent = problemText(e);
    error.hidden = false;
  };
  let videos: Video[] = [];
  const ids = () => videos.map((v) => v.id);

  const drawHead = () => {
    const first = videos[0];
    const play = first
      ? h("a.button.primary", { href: inListHref(first.id, p.id), dataset: { testid: "play-all" }, onclick: () => requestAutoplay() }, "▶ ", t("playlist.playall"))
      : null;
    const edit =
      p.mine && !p.watch_later
        ? h(
            "button",
            {
              type: "button",
              dataset: { testid: "playlist-edit" },
              onclick: () => {
                panel.hidden = !panel.hidden;
                if (!panel.hidden) {
                  panel.replaceChildren(
                    editor(p, (changed) => {
                      panel.hidden = true;
                      if (changed) {
                        p = { ...p, ...changed };
                        drawHead();
                      }
                    }),
                  );
                }
              },
            },
            t("playlist.edit"),
          )
        : null;
    head.replaceChildren(
      h("div.playlist-cover", {}, p.thumbnail ? h("img", { src: p.thumbnail, alt: "" }) : h("div.noimg")),
      h(
        "div.playlist-info",
        {},
        h("h1", { dataset: { testid: "playlist-title" } }, playlistTitle(p)),
        h(
          "div.muted",
          {},
          p.owner.username,
          " · ",
          h("span", { dataset: { testid: "playlist-count" } }, t("playlist.count", { n: videos.length > p.count ? videos.length : p.count })),
          " · ",
          h("span", { dataset: { testid: "playlist-privacy" } }, privacyLabel(p.privacy)),
        ),
        p.description ? h("p.description", { dataset: { testid: "playlist-description" } }, richText(p.description)) : null,
        reviewLine(p),
        h("div.form-actions", {}, play, edit),
      ),
    );
  };

  // One entry; its owner's controls: drag, up, down, remove.
  const row = (v: Video): HTMLLIElement => {
    const up = h("button.small.move", { type: "button", "aria-label": t("playlist.up"), title: t("playlist.up"), dataset: { testid: "entry-up" } }, "▲");
    const down = h("button.small.move", { type: "button", "aria-label": t("playlist.down"), title: t("playlist.down"), dataset: { testid: "entry-down" } }, "▼");
    const remove = h("button.link.danger", { type: "button", dataset: { testid: "entry-remove" } }, t("playlist.remove"));
    const href = inListHref(v.id, p.id);
    const li = h(
      "li.entry",
      { dataset: { testid: "entry", videoId: v.id } },
      p.mine ? h("span.drag-handle", { "aria-hidden": "true", title: t("playlist.drag") }, "⋮⋮") : null,
      h("span.entry-index"),
      h(
        "a.thumb.small",
        { href, draggable: "false" },
        v.images ? h("img", { src: v.images.poster_small, alt: "", draggable: "false" }) : h("div.noimg"),
        v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null,
        watchedBar(v),
      ),
      h("div.entry-meta", {}, h("a.card-title", { href, draggable: "false" }, h("bdi", {}, v.title)), h("a.card-channel", { href: `/c/${encodeURIComponent(v.channel.handle)}` }, h("bdi", {}, v.channel.display_name))),
      p.mine ? h("div.entry-actions", {}, up, down, remove) : null,
    );
    if (p.mine) {
      li.draggable = true;
      const index = () => videos.findIndex((x) => x.id === v.id);
      up.addEventListener("click", () => void move(index(), index() - 1, up));
      down.addEventListener("click", () => void move(index(), index() + 1, down));
      remove.addEventListener("click", () => {
        error.hidden = true;
        call("delete", "/api/v1/playlists/{id}/videos/{video}", { path: { id: p.id, video: v.id } })
          .then(() => {
            videos = videos.filter((x) => x.id !== v.id);
            p = { ...p, count: Math.max(0, p.count - 1) };
            draw();
          })
          .catch(fail);
      });
      li.addEventListener("dragstart", (e) => {
        dragging = v.id;
        li.classList.add("dragging");
        e.dataTransfer?.setData("text/plain", v.id);
        if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
      });
      li.addEventListener("dragend", () => {
        dragging = null;
        li.classList.remove("dragging");
        entries.querySelectorAll(".drop-before, .drop-after").forEach((x) => x.classList.remove("drop-before", "drop-after"));
      });
      li.addEventListener("dragover", (e) => {
        if (!dragging || dragging === v.id) return;
        e.preventDefault();
        const upper = e.clientY < li.getBoundingClientRect().top + li.offsetHeight / 2;
        li.classList.toggle("drop-before", upper);
        li.classList.toggle("drop-after", !upper);
      });
      li.addEventListener("dragleave", () => li.classList.remove("drop-before", "drop-after"));
      li.addEventListener("drop", (e) => {
        e.preventDefault();
        li.classList.remove("drop-before", "drop-after");
        const from = videos.findIndex((x) => x.id === dragging);
        const over = index();
        if (from < 0 || over < 0) return;
        const upper = e.clientY < li.getBoundingClientRect().top + li.offsetHeight / 2;
        void move(from, dropIndex(from, over, upper));
      });
    }
    return li;
  };
  let dragging: string | null = null;

  // Shown at once; put back when the server refuses.
  const move = async (from: number, to: number, focus?: HTMLElement) => {
    const moved = moveItem(ids(), from, to);
    if (!moved) return;
    const before = videos;
    const video = before[from].id;
    const byId = new Map(before.map((x) => [x.id, x]));
    videos = moved.ids.map((x) => byId.get(x)!);
    draw();
    // The button pressed keeps the focus, on the entry's new row.
    if (focus) entries.querySelector<HTMLElement>(`[data-video-id="${video}"] [data-testid=${focus.dataset.testid}]`)?.focus();
    error.hidden = true;
    try {
      await call("post", "/api/v1/playlists/{id}/videos/{video}/move", { path: { id: p.id, video }, body: { after: moved.after } });
    } catch (e) {
      videos = before;
      draw();
      fail(e);
    }
  };

  const draw = () => {
    entries.replaceChildren(...videos.map(row));
    entries.querySelectorAll<HTMLElement>(".entry-index").forEach((el, i) => (el.textContent = String(i + 1)));
    // First and last cannot go further.
    entries.querySelector<HTMLButtonElement>(":scope > li:first-child [data-testid=entry-up]")?.setAttribute("disabled", "");
    entries.querySelector<HTMLButtonElement>(":scope > li:last-child [data-testid=entry-down]")?.setAttribute("disabled", "");
    status.textContent = videos.length ? "" : t("playlist.empty");
    drawHead();
  };

  let cursor: string | undefined;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/playlists/{id}/videos", { path: { id: p.id }, query: { cursor, limit: 100 } });
      videos = [...videos, ...page.items.filter((v) => !videos.some((x) => x.id === v.id))];
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      draw();
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(h("div.playlist-page", {}, head, panel, error, entries, status, more));
  drawHead();
  await load();
};
