// Video cards and an infinitely scrolling grid that follows the API's cursor. A title or a
// channel's name is the uploader's text in any language: each is isolated (<bdi>), so that an
// English title keeps its punctuation in an Arabic page and the other way round, while the line
// still aligns with the page's writing; and a title in the language its uploader said it is
// in, so that a screen reader speaks it in that language.
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

export function card(v: Video): HTMLElement {
  // The poster leads where the title does: one link for a screen reader and the keyboard.
  const thumb = h(
    "a.thumb",
    { href: `/watch/${v.id}`, tabIndex: -1, "aria-hidden": "true" },
    v.images ? h("img", { src: v.images.poster_small, alt: "", loading: "lazy" }) : h("div.noimg"),
    v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null,
    watchedBar(v),
  );
  return h(
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
