// @vitest-environment happy-dom
// The poster manager's words, a card's hover preview (when it may play, made only when wanted,
// gone when left) and which of the account's languages win over this browser's.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, type Video } from "../src/api";
import { card, hoverPreview, PREVIEW_DELAY_MS, previewsAllowed } from "../src/cards";
import { setLang } from "../src/i18n";
import { frameName, pictureType, posterProblem, posterSource } from "../src/poster";
import { accountLanguages } from "../src/prefs";

const frames = [0, 1, 2, 3].map((index) => ({ index, url: `/f${index}.jpg`, small_url: `/f${index}_small.jpg`, width: 1280, height: 720 }));

describe("the poster manager's words", () => {
  beforeEach(() => setLang("en"));

  it("names frames by their place, from 1, in each language", () => {
    expect(frameName(0, 4)).toBe("Frame 1 of 4");
    setLang("ru");
    expect(frameName(2, 4)).toBe("Кадр 3 из 4");
    setLang("ar");
    expect(frameName(1, 4)).toBe("اللقطة 2 من 4");
  });

  it("says where the poster comes from", () => {
    expect(posterSource({ source: "auto", frame: null, frames })).toBe("Chosen automatically");
    expect(posterSource({ source: "frame", frame: 2, frames })).toBe("Frame 3 of 4");
    expect(posterSource({ source: "custom", frame: null, frames })).toBe("Your picture");
  });

  it("shows the server's title for a refused picture, with its detail", () => {
    const refused = new ApiError(415, "not_an_image", "at least 320 × 180 pixels", null, null, "The file is not a JPEG, PNG or WebP picture Kadr takes");
    expect(posterProblem(refused)).toBe("The picture was not accepted: The file is not a JPEG, PNG or WebP picture Kadr takes (at least 320 × 180 pixels)");
    const busy = new ApiError(503, "busy", "Too many pictures at once", 2, null, "Too many pictures at once");
    expect(posterProblem(busy)).toBe("Too many pictures at once");
    // A limit is told with its wait, as everywhere.
    expect(posterProblem(new ApiError(429, "too_many_requests", "slow down", 7, null, "Too many requests"))).toContain("7");
  });

  it("sends a picture under its own type, anything else under one the server names", () => {
    expect(pictureType({ type: "image/webp" })).toBe("image/webp");
    expect(pictureType({ type: "image/gif" })).toBe("image/gif");
    expect(pictureType({ type: "" })).toBe("application/octet-stream");
  });
});

describe("a card's hover preview", () => {
  const video = {
    id: "v1",
    title: "Кролик",
    channel: { id: "c1", handle: "cats", display_name: "Кошки" },
    views: 1,
    likes: 0,
    duration_secs: 5,
    images: { poster: "/p.jpg", poster_small: "/p_small.jpg", storyboard: "/s.vtt", preview: "/media/v1/images/preview.mp4" },
  } as unknown as Video;

  beforeEach(() => {
    vi.useFakeTimers();
    // happy-dom plays nothing: play() resolves, pause() is a no-op.
    vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
    vi.spyOn(HTMLMediaElement.prototype, "pause").mockImplementation(() => {});
    vi.spyOn(HTMLMediaElement.prototype, "load").mockImplementation(() => {});
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  const enter = (el: HTMLElement, pointerType = "mouse") => el.dispatchEvent(Object.assign(new Event("pointerenter"), { pointerType }));
  const leave = (el: HTMLElement) => el.dispatchEvent(Object.assign(new Event("pointerleave"), { pointerType: "mouse" }));

  it("plays only where a pointer hovers and no less motion is asked", () => {
    const media = (hover: boolean, reduce: boolean) => (q: string) => ({ matches: q.includes("hover") ? hover : reduce });
    expect(previewsAllowed(media(true, false))).toBe(true);
    expect(previewsAllowed(media(false, false))).toBe(false);
    expect(previewsAllowed(media(true, true))).toBe(false);
  });

  it("is made after a rest, muted and looping over the poster, and removed when left", () => {
    const el = document.createElement("article");
    const thumb = document.createElement("a");
    thumb.append(document.createElement("img"), document.createElement("span"));
    el.append(thumb);
    hoverPreview(el, thumb, "/preview.mp4", () => true);
    enter(el);
    vi.advanceTimersByTime(PREVIEW_DELAY_MS - 50);
    expect(thumb.querySelector("video")).toBeNull();
    vi.advanceTimersByTime(100);
    const v = thumb.querySelector("video")!;
    expect(v.getAttribute("src")).toBe("/preview.mp4");
    expect([v.muted, v.loop, v.hasAttribute("playsinline")]).toEqual([true, true, true]);
    // Between the poster and what is drawn over it (the duration).
    expect(thumb.children[1]).toBe(v);
    leave(el);
    expect(thumb.querySelector("video")).toBeNull();
  });

  it("is not made for a touch, nor for a pointer that leaves before the rest, nor when not allowed", () => {
    for (const [allowed, act] of [
      [true, (el: HTMLElement) => enter(el, "touch")],
      [true, (el: HTMLElement) => (enter(el), vi.advanceTimersByTime(100), leave(el))],
      [false, (el: HTMLElement) => enter(el)],
    ] as const) {
      const el = document.createElement("article");
      const thumb = document.createElement("a");
      el.append(thumb);
      hoverPreview(el, thumb, "/preview.mp4", () => allowed);
      act(el);
      vi.advanceTimersByTime(PREVIEW_DELAY_MS * 3);
      expect(thumb.querySelector("video")).toBeNull();
    }
  });

  it("follows the keyboard's focus in the card", () => {
    const el = card(video);
    document.body.append(el);
    const title = el.querySelector<HTMLAnchorElement>(".card-title")!;
    const channel = el.querySelector<HTMLAnchorElement>(".card-channel")!;
    // The card's own check asks matchMedia: here a mouse that hovers.
    vi.stubGlobal("matchMedia", (q: string) => ({ matches: q.includes("hover") }));
    title.dispatchEvent(new FocusEvent("focusin", { bubbles: true }));
    vi.advanceTimersByTime(PREVIEW_DELAY_MS + 10);
    expect(el.querySelector("video")).not.toBeNull();
    // Still in the card: it plays on.
    title.dispatchEvent(new FocusEvent("focusout", { bubbles: true, relatedTarget: channel }));
    expect(el.querySelector("video")).not.toBeNull();
    channel.dispatchEvent(new FocusEvent("focusout", { bubbles: true, relatedTarget: document.body }));
    expect(el.querySelector("video")).toBeNull();
    vi.unstubAllGlobals();
    el.remove();
  });

  it("is not there for a video without a preview", () => {
    const el = card({ ...video, images: { ...video.images!, preview: null } });
    vi.stubGlobal("matchMedia", () => ({ matches: true }));
    enter(el);
    vi.advanceTimersByTime(PREVIEW_DELAY_MS * 2);
    expect(el.querySelector("video")).toBeNull();
    vi.unstubAllGlobals();
  });
});

describe("the account's languages", () => {
  it("each language the account has wins over this browser's; none leaves this browser's", () => {
    expect(accountLanguages({ ui_language: "ar", video_language: "ru" }, "en")).toEqual({ ui: "ar", video: "ru" });
    // Already shown: nothing to redraw.
    expect(accountLanguages({ ui_language: "ar", video_language: null }, "ar")).toEqual({ ui: null, video: null });
    expect(accountLanguages({ ui_language: null, video_language: "pt-BR" }, "ru")).toEqual({ ui: null, video: "pt-BR" });
    expect(accountLanguages({ ui_language: "xx", video_language: undefined }, "en")).toEqual({ ui: null, video: null });
  });
});
