// Playlists in other pages: the watch page's "Save" dialog (my playlists with a check box each,
// Watch later first, and a new playlist made on the spot) and a playlist's card.
import { call, get, type Playlist, type Privacy } from "./api";
import { openDialog } from "./dialog";
import { h } from "./dom";
import { t } from "./i18n";
import { isPrivacy, playlistLimits, privacyChoices } from "./limits";
import { privacyLabel, problemText } from "./messages";

/** A playlist's name as shown: Watch later in the viewer's language. */
export function playlistTitle(p: Pick<Playlist, "title" | "watch_later">): string {
  return p.watch_later ? t("playlist.watchlater") : p.title;
}

/** The address of a playlist's page. */
export const playlistHref = (id: string) => `/playlist/${encodeURIComponent(id)}`;

/** The watch page of `video` playing the playlist `list`. */
export const inListHref = (video: string, list: string) => `/watch/${encodeURIComponent(video)}?list=${encodeURIComponent(list)}`;

let autoplay = false;

/** The next watch page starts playing by itself (a playlist's next entry, "Play all"). */
export function requestAutoplay(): void {
  autoplay = true;
}

/** Whether this watch page starts by itself (asked once). */
export function takeAutoplay(): boolean {
  const a = autoplay;
  autoplay = false;
  return a;
}

/** A playlist's card: its first video's poster with the count, its title and its owner. */
export function playlistCard(p: Playlist): HTMLElement {
  return h(
    "article.card.playlist-card",
    { dataset: { playlistId: p.id, testid: "playlist-card" } },
    h(
      "a.thumb",
      { href: playlistHref(p.id) },
      p.thumbnail ? h("img", { src: p.thumbnail, alt: "", loading: "lazy" }) : h("div.noimg"),
      h("span.playlist-count", {}, t("playlist.count", { n: p.count })),
    ),
    h(
      "div.card-meta",
      {},
      h("a.card-title", { href: playlistHref(p.id), title: playlistTitle(p) }, h("bdi", {}, playlistTitle(p))),
      h("div.card-stats", {}, p.privacy !== "public" ? `${privacyLabel(p.privacy)} · ` : "", h("bdi", {}, p.owner.username)),
    ),
  );
}

/** The privacy choices of a playlist as a <select>. */
export function privacySelect(value: Privacy, testid: string): HTMLSelectElement {
  return h(
    "select",
    { name: "privacy", "aria-label": t("upload.field.privacy"), dataset: { testid } },
    ...privacyChoices.map((p) => h("option", { value: p, selected: p === value }, privacyLabel(p))),
  );
}

/** The chosen privacy of a select made by `privacySelect`. */
export function chosenPrivacy(select: HTMLSelectElement): Privacy {
  return isPrivacy(select.value) ? select.value : "private";
}

/** The "Save" dialog of a video: a check box per playlist of mine (Watch later first), ticked
 * where the video is; ticking adds, unticking removes; a new playlist is made and gets it. */
export function saveDialog(video: string): void {
  const list = h("div.save-list", { dataset: { testid: "save-list" } }, h("p.muted", {}, t("list.more")));
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "save-error" } });
  const fail = (e: unknown) => {
    error.textContent = problemText(e);
    error.hidden = false;
  };
  const option = (p: Playlist) => {
    const box = h("input", { type: "checkbox", checked: !!p.contains, dataset: { testid: "save-check" } });
    box.addEventListener("change", () => {
      error.hidden = true;
      box.disabled = true;
      const path = { id: p.id, video };
      (box.checked ? call("put", "/api/v1/playlists/{id}/videos/{video}", { path }) : call("delete", "/api/v1/playlists/{id}/videos/{video}", { path }))
        .catch((e: unknown) => {
          box.checked = !box.checked;
          fail(e);
        })
        .finally(() => {
          box.disabled = false;
        });
    });
    return h(
      "label.save-option",
      { dataset: { testid: "save-option", playlistId: p.id } },
      box,
      h("span.save-name", {}, playlistTitle(p)),
      h("span.muted.small", {}, privacyLabel(p.privacy)),
    );
  };
  const load = async () => {
    const items: Playlist[] = [];
    let cursor: string | undefined;
    // Up to a few hundred; more than that would not fit a dialog anyway.
    for (let i = 0; i < 5; i++) {
      const page = await get("/api/v1/me/playlists", { query: { video, cursor, limit: 100 } });
      items.push(...page.items);
      cursor = page.next_cursor ?? undefined;
      if (!cursor) break;
    }
    list.replaceChildren(...items.map(option));
  };
  load().catch((e: unknown) => {
    list.replaceChildren();
    fail(e);
  });

  const title = h("input", { name: "title", required: true, maxLength: playlistLimits.title, placeholder: t("playlist.newtitle"), "aria-label": t("playlist.newtitle"), dataset: { testid: "new-playlist-title" } });
  const privacy = privacySelect("private", "new-playlist-privacy");
  const create = h("button.primary", { type: "submit", dataset: { testid: "new-playlist-create" } }, t("playlist.create"));
  const form = h("form.save-new", { hidden: true }, title, h("div.form-actions", {}, privacy, create));
  const open = h("button.link.save-open-new", { type: "button", dataset: { testid: "new-playlist" } }, "+ ", t("playlist.new"));
  open.addEventListener("click", () => {
    open.hidden = true;
    form.hidden = false;
    title.focus();
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    error.hidden = true;
    create.disabled = true;
    call("post", "/api/v1/playlists", { body: { title: title.value.trim(), privacy: chosenPrivacy(privacy) } })
      .then(async (p) => {
        await call("put", "/api/v1/playlists/{id}/videos/{video}", { path: { id: p.id, video } });
        list.append(option({ ...p, contains: true, count: 1 }));
        title.value = "";
        form.hidden = true;
        open.hidden = false;
      })
      .catch(fail)
      .finally(() => {
        create.disabled = false;
      });
  });
  openDialog(t("playlist.saveto"), "save-dialog", [list, error, open, form]);
}
