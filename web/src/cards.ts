// Video cards and an infinitely scrolling grid that follows the API's cursor. A title or a
// channel's name is the uploader's text in any language: each is isolated (<bdi>), so that an
// English title keeps its punctuation in an Arabic page and the other way round, while the line
// still aligns with the page's writing; and a title in the language its uploader said it is
// in, so that a screen reader speaks it in that language. A card whose video has a hover preview
// plays it over the poster while the pointer rests on it or the keyboard is in it.
import type { Page, Video } from "./api";
import { h } from "./dom";
import { dateTime, formatDuration, timeAgo } from "./format";
import { t, tCompact } from "./i18n";
import { watchedFraction } from "./lists";

/** The red bar under a poster: how much of it the viewer watched (their history only). */
export function watchedBar(v: Pick<Video, "resume_secs" | "duration_secs">): HTMLElement | null {
  const f = watchedFraction(v.resume_secs, v.duration_secs);
  if (!f) return null;
  return h("span.watched", { dataset: { testid: "watched" } }, h("span.watched-part", { style: { width: `${Math.max(2, Math.round(f * 100))}%` } }));
}

/** A video in a side list (related videos, a playlist's entries): small poster beside its
 * title, channel and views; `href` where it leads (its watch page by default). */
export function compactCard(v: Video, href = `/watch/${v.id}`, lead?: Node): HTMLElement {
  return h(
    "a.compact",
    { href, dataset: { videoId: v.id, testid: "compact-card" } },
    lead ?? null,
    h(
      "span.thumb.compact-thumb",
      {},
      v.images ? h("img", { src: v.images.poster_small, alt: "", loading: "lazy" }) : h("span.noimg"),
      v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null,
      watchedBar(v),
    ),
    h(
      "span.compact-meta",
      {},
      h("span.card-title", { title: v.title }, h("bdi", { lang: v.language || undefined }, v.title)),
      h("span.card-channel", {}, h("bdi", {}, v.channel.display_name)),
      h("span.card-stats", {}, tCompact("video.views", v.views)),
    ),
  );
}

/** How long a pointer rests on a card (or the keyboard's focus stays in it) before its preview
 * plays. */
export const PREVIEW_DELAY_MS = 400;

/** Whether hover previews may play: a pointer that can hover (never on a touch-only screen)
 * and no wish for less motion. */
export function previewsAllowed(media: (query: string) => { matches: boolean } = (q) => matchMedia(q)): boolean {
  return media("(hover: hover)").matches && !media("(prefers-reduced-motion: reduce)").matches;
}

/** Plays `src` (a few silent seconds) over the poster in `thumb` while the pointer rests on
 * `card` or the keyboard's focus is in it: made when wanted, in the poster's own box (nothing
 * moves), and removed when left. */
export function hoverPreview(card: HTMLElement, thumb: HTMLElement, src: string, allowed: () => boolean = () => typeof matchMedia === "function" && previewsAllowed()): void {
  let hovered = false;
  let focused = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let video: HTMLVideoElement | null = null;
  const stop = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!video) return;
    video.pause();
    video.removeAttribute("src");
    video.load();
    video.remove();
    video = null;
    thumb.classList.remove("previewing");
  };
  const play = () => {
    timer = undefined;
    if (!(hovered || focused) || video || !allowed()) return;
    const v = h("video.card-preview", { muted: true, defaultMuted: true, loop: true, playsInline: true, disablePictureInPicture: true, preload: "none", "aria-hidden": "true", tabIndex: -1, dataset: { testid: "card-preview" } });
    v.src = src;
    // Shown over the poster once it moves (until then the poster stays in sight).
    v.addEventListener("playing", () => {
      if (video === v) thumb.classList.add("previewing");
    });
    video = v;
    // Under the duration and the watched bar, over the poster.
    thumb.insertBefore(v, thumb.firstElementChild?.nextSibling ?? null);
    v.preload = "auto";
    void v.play().catch(() => {});
  };
  const follow = () => {
    if (!(hovered || focused)) return stop();
    if (!video && !timer) timer = setTimeout(play, PREVIEW_DELAY_MS);
  };
  card.addEventListener("pointerenter", (e) => {
    if (e.pointerType === "touch") return;
    hovered = true;
    follow();
  });
  card.addEventListener("pointerleave", () => {
    hovered = false;
    follow();
  });
  card.addEventListener("focusin", () => {
    focused = true;
    follow();
  });
  card.addEventListener("focusout", (e) => {
    if (e.relatedTarget instanceof Node && card.contains(e.relatedTarget)) return;
    focused = false;
    follow();
  });
}

export function card(v: Video): HTMLElement {
  // The poster leads where the title does: one link for a screen reader and the keyboard.
  const thumb = h(
    "a.thumb",
    { href: `/watch/${v.id}`, tabIndex: -1, "aria-hidden": "true" },
    v.images ? h("img", { src: v.images.poster_small, alt: "", loading: "lazy" }) : h("div.noimg"),
    v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null,
    watchedBar(v),
  );
  const el = h(
    "article.card",
    { dataset: { videoId: v.id, testid: "video-card" } },
    thumb,
    h(
      "div.card-meta",
      {},
      h("a.card-title", { href: `/watch/${v.id}`, title: v.title }, h("bdi", { lang: v.language || undefined }, v.title)),
      h("a.card-channel", { href: `/c/${encodeURIComponent(v.channel.handle)}` }, h("bdi", {}, v.channel.display_name)),
      h(
        "div.card-stats",
        {},
        tCompact("video.views", v.views),
        v.likes > 0 ? ` · ${tCompact("video.likes", v.likes)}` : "",
        v.published_at ? [" · ", h("time", { dateTime: v.published_at, title: dateTime(v.published_at) }, timeAgo(v.published_at))] : "",
      ),
    ),
  );
  if (v.images?.preview) hoverPreview(el, thumb, v.images.preview);
  return el;
}

/** Appends the pages `load` brings (from `cursor`, none for the first) to a list as its end
 * scrolls into view, each video drawn by `render` (a card in a grid by default). Returns the
 * cleanup. */
export function infiniteList(
  root: HTMLElement,
  load: (cursor: string | undefined) => Promise<Page>,
  empty: string,
  render: (v: Video) => HTMLElement = card,
  list: HTMLElement = h("div.grid", { dataset: { testid: "grid" } }),
): () => void {
  const status = h("div.list-status", {}, t("list.more"));
  root.append(list, status);
  let cursor: string | undefined;
  let loading = false;
  let done = false;
  let count = 0;
  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) void more();
  }, { rootMargin: "600px" });
  const more = async () => {
    if (loading || done) return;
    loading = true;
    try {
      const page = await load(cursor);
      page.items.forEach((v) => list.appendChild(render(v)));
      count += page.items.length;
      cursor = page.next_cursor ?? undefined;
      done = !cursor;
      status.textContent = done ? (count ? "" : empty) : t("list.more");
    } catch (e) {
      status.textContent = t("error.generic", { reason: (e as Error).message });
      done = true;
    } finally {
      loading = false;
    }
    // The sentinel may still be in view after a short page.
    if (!done && status.getBoundingClientRect().top < innerHeight + 600) void more();
  };
  observer.observe(status);
  void more();
  return () => observer.disconnect();
}
