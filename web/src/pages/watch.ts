// The watch page: player (as soon as the video is playable, even while the rest of the ladder
// is still being made), title, channel with its subscribe button, likes and dislikes, views,
// date, description and the comments.
import { ApiError, call, currentUser, get, isAdmin, isModerator, myChannels, playback, type Video } from "../api";
import { commentsSection } from "../comments";
import { h } from "../dom";
import { timeAgo } from "../format";
import { t } from "../i18n";
import { createPlayer, type Player } from "../player";
import { privacyLabel, statusLine } from "../messages";
import { richText } from "../richtext";
import type { PageFn } from "../router";
import { avatar, ratingButtons, subscribeButton } from "../social";

export const watch: PageFn = async (root, [id]) => {
  let v: Video;
  try {
    v = await get("/api/v1/videos/{id}", { path: { id } });
  } catch (e) {
    const gone = e instanceof ApiError && e.status === 404;
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, gone ? t("video.notfound") : t("error.generic", { reason: (e as Error).message })));
    return;
  }
  const [user, mine] = await Promise.all([currentUser(), myChannels().catch(() => [])]);
  // The owner (or an admin) pins and sets who may comment; moderators approve and delete too.
  const owner = isAdmin(user) || mine.some((c) => c.id === v.channel.id);
  const reviewer = owner || isModerator(user);
  const stage = h("div.stage", {}, h("div.stage-wait", {}, v.images ? h("img", { src: v.images.poster, alt: "" }) : null));
  const progress = h("progress.progress", { max: 100, value: v.progress });
  const status = h("div.video-status", { dataset: { testid: "video-status" } });
  const views = h("span", {}, t("video.views", { n: v.views }));
  const channelHref = `/c/${encodeURIComponent(v.channel.handle)}`;
  const channelPicture = h("a.watch-avatar", { href: channelHref, tabIndex: -1 }, avatar(v.channel.display_name));
  const subscribers = h("div.muted.small", { dataset: { testid: "watch-subscribers" } });
  const subscribeSlot = h("div.subscribe-slot");
  let player: Player | null = null;
  // A time written in the description or a comment: the player goes there.
  const seek = (secs: number) => {
    if (!player) return;
    player.video.currentTime = secs;
    void player.video.play().catch(() => {});
    stage.scrollIntoView({ behavior: "smooth", block: "nearest" });
  };
  const comments = commentsSection({ video: v, user, owner, reviewer, seek });
  root.append(
    h(
      "div.watch",
      {},
      stage,
      h("h1.watch-title", { dataset: { testid: "watch-title" } }, v.title),
      h(
        "div.watch-bar",
        {},
        h(
          "div.watch-channel",
          {},
          channelPicture,
          h("div", {}, h("a.card-channel.watch-channel-name", { href: channelHref }, v.channel.display_name), subscribers),
          subscribeSlot,
        ),
        ratingButtons(v, user),
      ),
      h(
        "div.watch-meta",
        {},
        views,
        v.published_at ? ` · ${timeAgo(v.published_at)}` : ` · ${timeAgo(v.created_at)}`,
        v.privacy !== "public" ? h("span.pill", {}, privacyLabel(v.privacy)) : null,
      ),
      status,
      v.description ? h("p.description", { dataset: { testid: "watch-description" } }, richText(v.description, { seek, duration: v.duration_secs })) : null,
      comments.el,
    ),
  );
  // The channel's picture, subscribers and whether I follow it.
  get("/api/v1/channels/{handle}", { path: { handle: v.channel.handle } })
    .then((c) => {
      channelPicture.replaceChildren(avatar(c.display_name, c.avatar));
      subscribers.textContent = t("channel.subscribers", { n: c.subscribers });
      const button = subscribeButton(c, user, (n) => {
        subscribers.textContent = t("channel.subscribers", { n });
      });
      if (button) subscribeSlot.replaceChildren(button);
    })
    .catch(() => {});

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
    comments.destroy();
    player?.destroy();
  };
};
