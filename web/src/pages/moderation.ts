// The moderation queue: preview, approve, reject with a reason the uploader sees; the comments
// held on every video, approved or deleted from one list; and import batches (../batches.ts).
import { call, currentUser, get, isModerator, playback, type Comment, type Playlist, type Video } from "../api";
import { infiniteList } from "../cards";
import { h } from "../dom";
import { timeAgo } from "../format";
import { t } from "../i18n";
import { reasonLimit } from "../limits";
import { privacyLabel, problemText } from "../messages";
import { playlistHref } from "../playlists";
import { createPlayer, type Player } from "../player";
import { richText } from "../richtext";
import type { PageFn } from "../router";
import { modTabs } from "../modtabs";
import { importBatches } from "../batches";

/** The held comments of every video a moderator may see, oldest first. */
function heldComments(root: HTMLElement): void {
  const list = h("div.mod-list", { dataset: { testid: "mod-comments" } });
  const status = h("div.list-status");
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const empty = () => {
    status.textContent = list.childElementCount ? "" : t("mod.commentsempty");
  };
  const item = (c: Comment) => {
    const error = h("div.error", { role: "alert", hidden: true });
    const el = h(
      "div.mod-item",
      { dataset: { commentId: c.id, testid: "mod-comment" } },
      h(
        "div.mod-meta",
        {},
        h("div.comment-head", {}, h("span.comment-author", { dir: "auto" }, c.author.username), h("time.muted", { dateTime: c.created_at }, timeAgo(c.created_at))),
        h("div.comment-body", { dataset: { testid: "comment-body" } }, richText(c.body)),
        h("a.card-channel", { href: `/watch/${encodeURIComponent(c.video_id)}` }, t("mod.open")),
        h(
          "div.mod-actions",
          {},
          h("button.primary", { type: "button", dataset: { testid: "approve-comment" }, onclick: () => decide("approve") }, t("mod.approve")),
          h("button.danger", { type: "button", dataset: { testid: "delete-comment" }, onclick: () => decide("delete") }, t("comments.delete")),
        ),
        error,
      ),
    );
    const decide = (action: "approve" | "delete") => {
      const path = { id: c.id };
      (action === "approve" ? call("post", "/api/v1/comments/{id}/approve", { path }) : call("delete", "/api/v1/comments/{id}", { path }))
        .then(() => {
          el.remove();
          empty();
        })
        .catch((e: unknown) => {
          error.textContent = problemText(e);
          error.hidden = false;
        });
    };
    return el;
  };
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/moderation/comments", { query: { cursor, limit: 24 } });
      list.append(...page.items.map(item));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      empty();
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(list, status, more);
  void load();
}

/** Playlists waiting for review (an untrusted owner's words), the longest waiting first. */
function heldPlaylists(root: HTMLElement): void {
  const list = h("div.mod-list", { dataset: { testid: "mod-playlists" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const empty = () => {
    status.textContent = list.childElementCount ? "" : t("mod.playlistsempty");
  };
  const item = (p: Playlist) => {
    const reason = h("input", { placeholder: t("mod.reason"), "aria-label": t("mod.reason"), maxLength: reasonLimit, dataset: { testid: "reason" } });
    const error = h("div.error", { role: "alert", hidden: true });
    const el = h(
      "div.mod-item",
      { dataset: { playlistId: p.id, testid: "mod-playlist" } },
      h("a.mod-preview", { href: playlistHref(p.id) }, p.thumbnail ? h("img", { src: p.thumbnail, alt: "" }) : null),
      h(
        "div.mod-meta",
        {},
        h("a.card-title", { href: playlistHref(p.id) }, h("bdi", {}, p.title)),
        h("div.muted", {}, p.owner.username, " · ", t("playlist.count", { n: p.count }), " · ", privacyLabel(p.privacy), " · ", timeAgo(p.updated_at)),
        p.description ? h("p.description", {}, p.description) : null,
        h(
          "div.mod-actions",
          {},
          h("button.primary", { type: "button", dataset: { testid: "approve" }, onclick: () => void decide("approve") }, t("mod.approve")),
          reason,
          h("button.danger", { type: "button", dataset: { testid: "reject" }, onclick: () => void decide("reject") }, t("mod.reject")),
        ),
        error,
      ),
    );
    const decide = async (action: "approve" | "reject") => {
      if (action === "reject" && !reason.value.trim()) {
        reason.focus();
        error.textContent = t("mod.reason");
        error.hidden = false;
        return;
      }
      try {
        const path = { id: p.id };
        if (action === "reject") await call("post", "/api/v1/moderation/playlists/{id}/reject", { path, body: { reason: reason.value.trim() } });
        else await call("post", "/api/v1/moderation/playlists/{id}/approve", { path, body: null });
        el.remove();
        empty();
      } catch (e) {
        error.textContent = problemText(e);
        error.hidden = false;
      }
    };
    return el;
  };
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/moderation/playlists", { query: { cursor, limit: 24 } });
      list.append(...page.items.map(item));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      empty();
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(list, status, more);
  void load();
}

export const moderation: PageFn = async (root, _params, url) => {
  root.append(h("h1.page-title", {}, t("mod.title")));
  const user = await currentUser();
  if (!isModerator(user)) {
    root.append(h("p.notice", {}, t("mod.denied")));
    return;
  }
  const tab = url.searchParams.get("tab");
  root.append(modTabs(tab === "comments" ? "comments" : tab === "playlists" ? "playlists" : tab === "batches" ? "batches" : "videos", user));
  if (tab === "comments") return heldComments(root);
  if (tab === "playlists") return heldPlaylists(root);
  if (tab === "batches") return importBatches(root);
  const players = new Set<Player>();
  let stopped = false;
  const list = h("div.mod-list");
  const item = (v: Video) => {
    const preview = h("div.mod-preview");
    const reason = h("input", { placeholder: t("mod.reason"), "aria-label": t("mod.reason"), maxLength: reasonLimit, dataset: { testid: "reason" } });
    const error = h("div.error", { hidden: true });
    const approve = h("button.primary", { type: "button", dataset: { testid: "approve" } }, t("mod.approve"));
    const reject = h("button.danger", { type: "button", dataset: { testid: "reject" } }, t("mod.reject"));
    const el = h(
      "div.mod-item",
      { dataset: { videoId: v.id, testid: "mod-item" } },
      preview,
      h(
        "div.mod-meta",
        {},
        h("a.card-title", { href: `/watch/${v.id}` }, h("bdi", {}, v.title)),
        h("div.muted", {}, h("bdi", {}, v.channel.display_name), " · ", timeAgo(v.created_at)),
        h("p.description", {}, v.description),
        h("div.mod-actions", {}, approve, reason, reject),
        error,
      ),
    );
    let player: Player | undefined;
    if (v.playable) {
      playback(v.id)
        .then((pb) => {
          if (stopped || !el.isConnected) return;
          player = createPlayer(pb);
          players.add(player);
          preview.replaceChildren(player.el);
        })
        .catch(() => {});
    } else if (v.images) preview.append(h("img", { src: v.images.poster_small, alt: "" }));
    const decide = async (action: "approve" | "reject") => {
      if (action === "reject" && !reason.value.trim()) {
        reason.focus();
        error.textContent = t("mod.reason");
        error.hidden = false;
        return;
      }
      try {
        const path = { id: v.id };
        if (action === "reject") await call("post", "/api/v1/moderation/videos/{id}/reject", { path, body: { reason: reason.value.trim() } });
        else await call("post", "/api/v1/moderation/videos/{id}/approve", { path });
        el.remove();
        if (player) {
          player.destroy();
          players.delete(player);
        }
        if (!list.childElementCount) list.append(h("p.notice", {}, t("mod.empty")));
      } catch (e) {
        error.textContent = t("error.generic", { reason: (e as Error).message });
        error.hidden = false;
      }
    };
    approve.addEventListener("click", () => void decide("approve"));
    reject.addEventListener("click", () => void decide("reject"));
    return el;
  };
  const stop = infiniteList(root, (cursor) => get("/api/v1/moderation/queue", { query: { cursor } }), t("mod.empty"), item, list);
  return () => {
    stopped = true;
    stop();
    players.forEach((p) => p.destroy());
  };
};
