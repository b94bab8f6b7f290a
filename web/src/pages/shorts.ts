// Shorts: a full-height vertical feed, one video per screen (scroll snap), autoplay muted with
// tap to unmute; the next video is loaded ahead so a swipe starts it at once.
import { get, playback, type Video } from "../api";
import { h } from "../dom";
import { t } from "../i18n";
import { createPlayer, type Player } from "../player";
import type { PageFn } from "../router";

export const shorts: PageFn = (root) => {
  const feed = h("div.shorts", { dataset: { testid: "shorts" } });
  root.append(feed);
  document.body.classList.add("shorts-mode");
  let muted = true;
  let cursor: string | undefined;
  let done = false;
  let loading = false;
  let stopped = false;
  const slides: { el: HTMLElement; video: Video; player?: Player; loading?: boolean; gone?: boolean }[] = [];

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
    const hint = h("div.unmute", { hidden: !muted }, t("player.tapunmute"));
    const el = h(
      "section.short",
      { dataset: { videoId: v.id, testid: "short" } },
      h("div.short-stage"),
      hint,
      h("div.short-meta", {}, h("a.card-title", { href: `/watch/${v.id}` }, v.title), h("div", {}, `@${v.channel.handle}`)),
    );
    el.addEventListener("click", (e) => {
      if ((e.target as Element).closest("a")) return;
      muted = !muted;
      for (const s of slides) {
        if (s.player) s.player.video.muted = muted;
        s.el.querySelector<HTMLElement>(".unmute")!.hidden = !muted;
      }
    });
    slides.push({ el, video: v });
    feed.appendChild(el);
    visible.observe(el);
  };
  const more = async () => {
    if (loading || done) return;
    loading = true;
    try {
      const page = await get("/api/v1/shorts", { query: { cursor, limit: 10 } });
      page.items.forEach(slide);
      cursor = page.next_cursor ?? undefined;
      done = !cursor;
      if (!slides.length) feed.append(h("p.notice", {}, t("shorts.empty")));
    } finally {
      loading = false;
    }
  };
  void more();
  // Keys: down/j next, up/k previous.
  const onKey = (e: KeyboardEvent) => {
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      feed.scrollBy({ top: (e.key === "ArrowDown" ? 1 : -1) * feed.clientHeight, behavior: "smooth" });
    }
  };
  document.addEventListener("keydown", onKey);
  return () => {
    stopped = true;
    visible.disconnect();
    document.removeEventListener("keydown", onKey);
    document.body.classList.remove("shorts-mode");
    slides.forEach((s) => s.player?.destroy());
  };
};
