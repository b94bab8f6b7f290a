// Chapters: read defensively from the video object, put in order with their ends, looked up by
// time (the seek bar, the time display, the list under the video).
// @vitest-environment happy-dom
import { describe, expect, it, vi } from "vitest";
import { chapterAt, chapterIndexAt, chapterList, normalizeChapters, playedShare, videoChapters } from "../src/chapters";

describe("videoChapters", () => {
  it("reads the field, absent in lists", () => {
    expect(videoChapters({})).toEqual([]);
    expect(videoChapters({ chapters: null })).toEqual([]);
    expect(videoChapters({ chapters: [{ start: 0, title: "Вступление" }] })).toEqual([{ start: 0, title: "Вступление" }]);
  });
});

describe("normalizeChapters", () => {
  it("sorts, gives each its end and the last the video's end", () => {
    const c = normalizeChapters([{ start: 60, title: "Two" }, { start: 0, title: " One " }, { start: 120, title: "Three" }], 300);
    expect(c).toEqual([
      { start: 0, end: 60, title: "One" },
      { start: 60, end: 120, title: "Two" },
      { start: 120, end: 300, title: "Three" },
    ]);
  });

  it("drops starts outside the video and repeats of a second; the first starts at 0", () => {
    const c = normalizeChapters(
      [{ start: 5, title: "a" }, { start: 5.4, title: "dup" }, { start: -1, title: "neg" }, { start: 400, title: "past" }, { start: NaN, title: "nan" }, { start: 50, title: "b" }],
      300,
    );
    expect(c.map((x) => [x.start, x.title])).toEqual([[0, "a"], [50, "b"]]);
  });

  it("makes nothing of a single chapter", () => {
    expect(normalizeChapters([{ start: 0, title: "All" }], 100)).toEqual([]);
    expect(normalizeChapters([], 100)).toEqual([]);
  });

  it("keeps chapters while the duration is unknown", () => {
    const c = normalizeChapters([{ start: 0, title: "a" }, { start: 30, title: "b" }], NaN);
    expect(c).toEqual([{ start: 0, end: 30, title: "a" }, { start: 30, end: 30, title: "b" }]);
  });
});

describe("chapterAt", () => {
  const c = normalizeChapters([{ start: 0, title: "a" }, { start: 10, title: "b" }, { start: 20, title: "c" }], 30);
  it("finds the chapter playing", () => {
    expect(chapterAt(c, 0)?.title).toBe("a");
    expect(chapterAt(c, 9.99)?.title).toBe("a");
    expect(chapterAt(c, 10)?.title).toBe("b");
    expect(chapterAt(c, 29)?.title).toBe("c");
    expect(chapterAt(c, 1000)?.title).toBe("c");
    expect(chapterIndexAt(c, -1)).toBe(-1);
    expect(chapterAt([], 5)).toBeUndefined();
  });

  it("tells how much of a chapter has played", () => {
    expect(playedShare(c[1], 5)).toBe(0);
    expect(playedShare(c[1], 15)).toBe(0.5);
    expect(playedShare(c[1], 25)).toBe(1);
  });
});

describe("chapterList", () => {
  it("seeks on a click and marks the chapter playing", () => {
    const seek = vi.fn();
    const c = normalizeChapters([{ start: 0, title: "Начало" }, { start: 65, title: "مقدمة" }], 120);
    const list = chapterList(c, seek);
    const items = list.el.querySelectorAll<HTMLButtonElement>("[data-testid=chapter-item]");
    expect(items).toHaveLength(2);
    expect(items[1].textContent).toBe("1:05مقدمة");
    items[1].click();
    expect(seek).toHaveBeenCalledWith(65);
    list.mark(70);
    expect(items[1].getAttribute("aria-current")).toBe("true");
    expect(items[0].hasAttribute("aria-current")).toBe(false);
    list.mark(3);
    expect(items[0].getAttribute("aria-current")).toBe("true");
    expect(items[1].hasAttribute("aria-current")).toBe(false);
  });
});
