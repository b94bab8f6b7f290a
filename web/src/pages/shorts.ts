// Shorts: a full-height vertical feed, one video per screen (scroll snap), autoplay muted with
// tap to unmute; the next video is loaded ahead so a swipe starts it at once. Every short or
// only those of the channels I follow; beside each, like, comments (a panel over the feed)
// and subscribe.
import { currentUser, get, isAdmin, isModerator, myChannels, playback, type Channel, type Video } from "../api";
import { commentsSection } from "../comments";
import { h } from "../dom";
import { formatCount, t } from "../i18n";
import { icon } from "../icons";
import { createPlayer, type Player } from "../player";
import type { PageFn } from "../router";
import { named, ratingButtons, subscribeButton } from "../social";

export const shorts: PageFn = async (root, _params, url) => {
  const user = await currentUser();
  const following = !!user && url.searchParams.get("feed") === "subscriptions";
  const feed = h("div.shorts", { dataset: { testid: "shorts" } });
  const tab = (on: boolean, href: string, label: string, testid: string) =>
    h("a.tab", { href, "aria-current": on ? "page" : undefined, dataset: { testid } }, label);
  const tabs = user
    ? h("nav.tabs.shorts-tabs", {}, tab(!following, "/shorts", t("shorts.all"), "shorts-all"), tab(following, "/shorts?feed=subscriptions", t("shorts.subscriptions"), "shorts-subscriptions"))
    : null;
  const panel = h("aside.short-panel", { hidden: true, dataset: { testid: "short-panel" } });
  root.append(h("div.shorts-wrap", {}, tabs, feed, panel));
  const mine: Promise<Channel[]> = user ? myChannels().catch(() => []) : Promise.resolve([]);
  const channels = new Map<string, Promise<Channel | null>>();
  const channelOf = (handle: string) => {
    let c = channels.get(handle);
    if (!c) {
      c = get("/api/v1/channels/{handle}", { path: { handle } }).catch(() => null);
      channels.set(handle, c);
    }
    return c;
  };
  document.body.classList.add("shorts-mode");
  let muted = true;
  let cursor: string | undefined;
  let done = false;
  let loading = false;
  let stopped = false;
  const slides: { el: HTMLElement; video: Video; player?: Player; loading?: boolean; gone?: boolean; social?: boolean }[] = [];
  let comments: { el: HTMLElement; destroy(): void } | null = null;
  const closePanel = () => {
    comments?.destroy();
    comments = null;
    panel.hidden = true;
    panel.replaceChildren();
  };
  // The comments of a short, over the feed.
  const openComments = async (s: (typeof slides)[number], counter: HTMLElement) => {
    closePanel();
    const owner = isAdmin(user) || (await mine).some((c) => c.id === s.video.channel.id);
    comments = commentsSection({
      video: s.video,
      user,
      owner,
      reviewer: owner || isModerator(user),
      seek: (secs) => {
        if (!s.player) return;
        s.player.video.currentTime = secs;
        void s.player.video.play().catch(() => {});
      },
      onCount: (n) => {
        counter.textContent = formatCount(n);
        const button = counter.closest("button");
        if (button) named(button, t("comments.title"), counter.textContent);
      },
    });
    panel.replaceChildren(
      h(
        "div.short-panel-head",
        {},
        h("strong", {}, t("comments.title")),
        h("button.link", { type: "button", "aria-label": t("comments.close"), dataset: { testid: "short-panel-close" }, onclick: closePanel }, "✕"),
      ),
      comments.el,
    );
    panel.hidden = false;
  };
  // Like and subscribe need the viewer's rating and the channel: asked once a short is seen.
  const social = (s: (typeof slides)[number]) => {
    if (s.social) return;
    s.social = true;
    const actions = s.el.querySelector(".short-actions")!;
    actions.prepend(ratingButtons(s.video, user, { vertical: true }));
    void channelOf(s.video.channel.handle).then((c) => {
      const button = c && subscribeButton(c, user);
      if (button && !stopped) actions.append(button);
    });
  };

  const ensurePlayer = async (i: number) => {
    const s = slides[i];
    if (!s || s.player || s.loading || s.gone || stopped) return;
    s.loading = true;
    try {
      const pb = await playback(s.video.id);
      // The page may have been left meanwhile: a player made now would never be destroyed.
      if (stopped) return;
      const stage = s.el.querySelector(".short-stage");
      const p = createPlayer(pb, {
        bare: true,
        muted,
        loop: true,
        onGone: () => {
          p.destroy();
          if (s.player === p) s.player = undefined;
          s.gone = true;
          stage?.replaceChildren(h("p.notice", { dataset: { testid: "notfound" } }, t("video.notfound")));
        },
      });
      p.video.preload = "auto";
      s.player = p;
      stage?.replaceChildren(p.el);
    } finally {
      s.loading = false;
    }
  };
  const activate = async (i: number) => {
    if (slides[i]) social(slides[i]);
    await ensurePlayer(i);
    void ensurePlayer(i + 1);
    slides.forEach((s, j) => {
      if (!s.player) return;
      if (j === i) {
        s.player.video.muted = muted;
        void s.player.video.play().catch(() => {});
      } else {
        s.player.video.pause();
        // Keep the neighbours; free the rest.
        if (Math.abs(j - i) > 2) {
          s.player.destroy();
          s.player = undefined;
          s.el.querySelector(".short-stage")?.replaceChildren();
        }
      }
    });
    if (i >= slides.length - 3) void more();
  };
  const visible = new IntersectionObserver(
    (entries) => {
      for (const e of entries) {
        if (e.isIntersecting) void activate(slides.findIndex((s) => s.el === e.target));
      }
    },
    { threshold: 0.6 },
  );
  const slide = (v: Video) => {
    // A button, so that the keyboard can unmute as a tap does.
    const hint = h("button.unmute", { type: "button", hidden: !muted }, t("player.tapunmute"));
    const commentCount = h("span.count", { dataset: { testid: "short-comment-count" } }, formatCount(v.comments));
    const commentButton = h(
      "button.rate.short-comments",
      { type: "button", "aria-label": t("comments.title"), title: t("comments.title"), dataset: { testid: "short-comments" } },
      icon("comment"),
      commentCount,
    );
    named(commentButton, t("comments.title"), commentCount.textContent ?? "");
    const el = h(
      "section.short",
      { dataset: { videoId: v.id, testid: "short" } },
      h("div.short-stage"),
      hint,
      h(
        "div.short-meta",
        {},
        h("a.card-title", { href: `/watch/${v.id}` }, h("bdi", {}, v.title)),
        h("a.short-channel", { href: `/c/${encodeURIComponent(v.channel.handle)}` }, h("bdi", {}, `@${v.channel.handle}`)),
      ),
      h("div.short-actions", {}, commentButton),
    );
    const s = { el, video: v };
    commentButton.addEventListener("click", () => void openComments(s, commentCount));
    const toggleSound = () => {
      muted = !muted;
      for (const s of slides) {
        if (s.player) s.player.video.muted = muted;
        s.el.querySelector<HTMLElement>(".unmute")!.hidden = !muted;
      }
    };
    hint.addEventListener("click", toggleSound);
    el.addEventListener("click", (e) => {
      if ((e.target as Element).closest("a, button, .short-actions")) return;
      toggleSound();
    });
    slides.push(s);
    feed.appendChild(el);
    visible.observe(el);
  };
  const more = async () => {
    if (loading || done) return;
    loading = true;
    try {
      const query = { query: { cursor, limit: 10 } };
      const page = await (following ? get("/api/v1/me/feed/shorts", query) : get("/api/v1/shorts", query));
      if (stopped) return;
      page.items.forEach(slide);
      cursor = page.next_cursor ?? undefined;
      done = !cursor;
      if (!slides.length) feed.append(h("p.notice", {}, following ? t("feed.empty") : t("shorts.empty")));
    } finally {
      loading = false;
    }
  };
  void more();
  // Keys: down/j next, up/k previous.
  const onKey = (e: KeyboardEvent) => {
    if ((e.target as Element | null)?.closest?.("input, textarea, select")) return;
    if (e.key === "Escape") closePanel();
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      feed.scrollBy({ top: (e.key === "ArrowDown" ? 1 : -1) * feed.clientHeight, behavior: "smooth" });
    }
  };
  document.addEventListener("keydown", onKey);
  return () => {
    stopped = true;
    closePanel();
    visible.disconnect();
    document.removeEventListener("keydown", onKey);
    document.body.classList.remove("shorts-mode");
    slides.forEach((s) => s.player?.destroy());
  };
};
