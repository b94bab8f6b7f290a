// The moderation queue: preview, approve, reject with a reason the uploader sees.
import { call, currentUser, get, isModerator, playback, type Video } from "../api";
import { infiniteList } from "../cards";
import { h } from "../dom";
import { timeAgo } from "../format";
import { t } from "../i18n";
import { reasonLimit } from "../limits";
import { createPlayer, type Player } from "../player";
import type { PageFn } from "../router";

export const moderation: PageFn = async (root) => {
  root.append(h("h1.page-title", {}, t("mod.title")));
  if (!isModerator(await currentUser())) {
    root.append(h("p.notice", {}, t("mod.denied")));
    return;
  }
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
        h("a.card-title", { href: `/watch/${v.id}` }, v.title),
        h("div.muted", {}, v.channel.display_name, " · ", timeAgo(v.created_at)),
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
