// The embed page's address: which video, which playlist, and the options; the playlist's next
// entry (looping back when asked).
import { describe, expect, it } from "vitest";
import { embedPath, embedRoute, MemoryStorage, nextEntry } from "../src/embed";

const at = (path: string) => embedRoute(new URL(path, "https://kadr.example"));

describe("embedRoute", () => {
  it("reads a video's embed with its options", () => {
    expect(at("/embed/v1")).toEqual({ video: "v1", playlist: null, start: null, autoplay: false, loop: false });
    expect(at("/embed/v1?t=1m30s&autoplay=1&loop=1&list=p9")).toEqual({ video: "v1", playlist: "p9", start: 90, autoplay: true, loop: true });
    expect(at("/embed/v1?start=42")?.start).toBe(42);
    expect(at("/embed/v1?t=nonsense")?.start).toBeNull();
  });

  it("reads a playlist's embed", () => {
    expect(at("/embed/playlist/p1?autoplay=1")).toEqual({ video: null, playlist: "p1", start: null, autoplay: true, loop: false });
  });

  it("refuses other addresses", () => {
    expect(at("/watch/v1")).toBeNull();
    expect(at("/embed")).toBeNull();
    expect(at("/embed/playlist")).toEqual({ video: "playlist", playlist: null, start: null, autoplay: false, loop: false });
    expect(at("/embed/a/b/c")).toBeNull();
  });
});

describe("nextEntry", () => {
  const ids = ["a", "b", "c"];
  it("goes on to the next entry, and after the last only when looping", () => {
    expect(nextEntry(ids, "a", false)).toBe("b");
    expect(nextEntry(ids, "c", false)).toBeNull();
    expect(nextEntry(ids, "c", true)).toBe("a");
    expect(nextEntry(ids, "x", true)).toBeNull();
  });

  it("keeps the options in the frame's address", () => {
    expect(embedPath("b", { video: "a", playlist: "p1", start: 30, autoplay: true, loop: false })).toBe("/embed/b?list=p1&autoplay=1");
  });
});

describe("MemoryStorage", () => {
  it("stands in for a refused localStorage", () => {
    const s = new MemoryStorage();
    s.setItem("a", "1");
    s.setItem("b", "2");
    expect([s.getItem("a"), s.getItem("c"), s.length, s.key(1)]).toEqual(["1", null, 2, "b"]);
    s.removeItem("a");
    expect(s.length).toBe(1);
    s.clear();
    expect(s.key(0)).toBeNull();
  });
});
