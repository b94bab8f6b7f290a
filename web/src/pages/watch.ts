// The watch page: player (as soon as the video is playable, even while the rest of the ladder
// is still being made), title, channel, views, date and description.
import { ApiError, call, get, playback, type Video } from "../api";
import { h } from "../dom";
import { timeAgo } from "../format";
import { t } from "../i18n";
import { createPlayer, type Player } from "../player";
import { privacyLabel, statusLine } from "../messages";
import type { PageFn } from "../router";

export const watch: PageFn = async (root, [id]) => {
  let v: Video;
  try {
    v = await get("/api/v1/videos/{id}", { path: { id } });
  } catch (e) {
    const gone = e instanceof ApiError && e.status === 404;
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, gone ? t("video.notfound") : t("error.generic", { reason: (e as Error).message })));
    return;
  }
  const stage = h("div.stage", {}, h("div.stage-wait", {}, v.images ? h("img", { src: v.images.poster, alt: "" }) : null));
  const progress = h("progress.progress", { max: 100, value: v.progress });
  const status = h("div.video-status", { dataset: { testid: "video-status" } });
  const views = h("span", {}, t("video.views", { n: v.views }));
  root.append(
    h(
      "div.watch",
      {},
      stage,
      h("h1.watch-title", { dataset: { testid: "watch-title" } }, v.title),
      h(
        "div.watch-meta",
        {},
        h("a.card-channel", { href: `/c/${encodeURIComponent(v.channel.handle)}` }, v.channel.display_name),
        " · ",
        views,
        v.published_at ? ` · ${timeAgo(v.published_at)}` : ` · ${timeAgo(v.created_at)}`,
        v.privacy !== "public" ? h("span.pill", {}, privacyLabel(v.privacy)) : null,
      ),
      status,
      h("p.description", {}, v.description),
    ),
  );

  let player: Player | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let counted = false;
  const show = (video: Video) => {
    const line = statusLine(video);
    status.replaceChildren(line, video.status === "processing" ? progress : "");
    progress.value = video.progress;
    status.hidden = !line;
  };
  // Asked for fresh links, the playback endpoint answered 404: the video was deleted or is no
  // longer visible to this viewer (made private, rejected). The page says what a reload would.
  const gone = () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    player?.destroy();
    player = null;
    root.replaceChildren(h("p.notice", { dataset: { testid: "notfound" } }, t("video.notfound")));
  };
  const startPlayer = async () => {
    const pb = await playback(id);
    if (stopped) return;
    player = createPlayer(pb, { keyboard: true, onGone: gone });
    stage.replaceChildren(player.el);
    player.video.addEventListener("playing", () => {
      if (counted) return;
      counted = true;
      call("post", "/api/v1/videos/{id}/views", { path: { id } }).catch(() => {});
    });
  };
  const poll = async () => {
    if (stopped) return;
    try {
      v = await get("/api/v1/videos/{id}", { path: { id } });
      show(v);
      if (v.playable && !player) await startPlayer();
    } catch {
      // Try again on the next tick.
    }
    if (!stopped && v.status !== "ready" && v.status !== "failed") timer = setTimeout(() => void poll(), 1000);
  };
  show(v);
  if (v.playable) await startPlayer().catch(() => {});
  if (v.status !== "ready" && v.status !== "failed") timer = setTimeout(() => void poll(), 1000);
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    player?.destroy();
  };
};
