// Chapters of a video: titled parts from the `chapters` field of the video object (each a start
// in seconds and a title), shown as segments of the player's seek bar, in its time display and
// as a list under the video on the watch page. The server reads them from the description
// (`0:00 Intro` lines) and sends them on a single video's object only.
import type { Video } from "./api";
import { h } from "./dom";
import { formatDuration } from "./format";
import { t } from "./i18n";

/** A chapter as the server sends it: its start in seconds and its title. */
export type ChapterJson = NonNullable<Video["chapters"]>[number];

/** A chapter as the player uses it: where it ends too (the next one's start, or the end). */
export interface Chapter {
  start: number;
  end: number;
  title: string;
}

/** The chapters of a video object (none in lists, where the server leaves them out). */
export function videoChapters(video: Pick<Video, "chapters">): ChapterJson[] {
  return video.chapters ?? [];
}

/**
 * The chapters in order with their ends, as far as `duration` (seconds; 0 or less: unknown, the
 * last chapter then ends at its own start). Starts that are not finite, negative or at or past
 * the end are dropped; two chapters at the same second keep the first; the first chapter is
 * made to start at 0 (a bar with a hole before it would read as broken). One chapter alone is no
 * chapters: nothing to tell apart.
 */
export function normalizeChapters(chapters: readonly ChapterJson[], duration: number): Chapter[] {
  const known = Number.isFinite(duration) && duration > 0;
  const starts = chapters
    .filter((c) => Number.isFinite(c.start) && c.start >= 0 && (!known || c.start < duration))
    .map((c) => ({ start: c.start, title: c.title.trim() }))
    .sort((a, b) => a.start - b.start)
    .filter((c, i, all) => i === 0 || Math.floor(c.start) !== Math.floor(all[i - 1].start));
  if (starts.length < 2) return [];
  starts[0].start = 0;
  return starts.map((c, i) => ({
    start: c.start,
    end: i + 1 < starts.length ? starts[i + 1].start : known ? duration : c.start,
    title: c.title,
  }));
}

/** The index of the chapter playing at `time` (the last one starting at or before it), or -1. */
export function chapterIndexAt(chapters: readonly Chapter[], time: number): number {
  let lo = 0;
  let hi = chapters.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (chapters[mid].start <= time) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The chapter playing at `time`, if any. */
export function chapterAt(chapters: readonly Chapter[], time: number): Chapter | undefined {
  const i = chapterIndexAt(chapters, time);
  return i >= 0 ? chapters[i] : undefined;
}

/** The share (0 to 1) of chapter `c` that has played by `time`. */
export function playedShare(c: Chapter, time: number): number {
  if (time <= c.start) return 0;
  if (time >= c.end || c.end <= c.start) return 1;
  return (time - c.start) / (c.end - c.start);
}

/** The chapter list under the video: a button per chapter that seeks there, with the picture at
 * its start once `stills` says where pictures are (a 160-wide still, loaded lazily); the one
 * playing marked (`mark(time)` moves the mark). The picture adds nothing to the button's name
 * (its time and title): its alt text is empty, as a picture inside a named control's is. */
export function chapterList(
  chapters: readonly Chapter[],
  seek: (secs: number) => void,
): { el: HTMLElement; mark(time: number): void; stills(at: (secs: number) => string): void } {
  const pictures: HTMLElement[] = [];
  const items = chapters.map((c) => {
    const picture = h("span.chapter-still");
    pictures.push(picture);
    return h(
      "li",
      {},
      h(
        "button.chapter-item",
        { type: "button", dataset: { testid: "chapter-item", start: String(c.start) }, onclick: () => seek(c.start) },
        picture,
        h("span.chapter-time", {}, formatDuration(c.start)),
        h("span.chapter-title", { dir: "auto" }, c.title),
      ),
    );
  });
  const el = h(
    "section.chapters",
    { dataset: { testid: "chapters" }, "aria-label": t("player.chapters") },
    h("h2.side-title", {}, t("player.chapters")),
    h("ol.chapter-list", {}, ...items),
  );
  let current = -1;
  return {
    el,
    mark(time: number) {
      const i = chapterIndexAt(chapters, time);
      if (i === current) return;
      items[current]?.firstElementChild?.removeAttribute("aria-current");
      items[i]?.firstElementChild?.setAttribute("aria-current", "true");
      current = i;
    },
    stills(at: (secs: number) => string) {
      chapters.forEach((c, i) => {
        const img = h("img", {
          src: at(c.start),
          alt: "",
          loading: "lazy",
          decoding: "async",
          width: 160,
          height: 90,
          dataset: { testid: "chapter-still" },
        });
        // A picture that cannot be made (yet) leaves the grey box.
        img.addEventListener("error", () => img.remove());
        pictures[i].replaceChildren(img);
      });
    },
  };
}
