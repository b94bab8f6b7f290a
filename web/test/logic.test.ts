import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, clockSkewMs, type Playback, type Video } from "../src/api";
import { formatBytes, formatDuration, formatEta, RateMeter, timeAgo } from "../src/format";
import { detectLang, t } from "../src/i18n";
import { statusLine, uploadError } from "../src/messages";
import { qualityLabel, qualityOptions } from "../src/quality";
import { LinkRenewer, linksRefused, MAX_TIMEOUT_MS, RENEW_MIN_GAP_MS, RENEW_RETRY_MS, renewDelayMs } from "../src/renew";
import { parseStoryboard, thumbAt } from "../src/storyboard";

describe("i18n", () => {
  it("takes the first of the browser's languages it knows", () => {
    expect(detectLang(["de-DE", "ru-RU", "en"])).toBe("ru");
    expect(detectLang(["en-GB", "ru"])).toBe("en");
    expect(detectLang(["fr", "de"])).toBe("en");
    expect(detectLang([])).toBe("en");
  });

  it("uses Russian plural forms", () => {
    expect(t("video.views", { n: 1 }, "ru")).toBe("1 просмотр");
    expect(t("video.views", { n: 3 }, "ru")).toBe("3 просмотра");
    expect(t("video.views", { n: 5 }, "ru")).toBe("5 просмотров");
    expect(t("video.views", { n: 21 }, "ru")).toBe("21 просмотр");
    expect(t("video.views", { n: 1234567 }, "ru")).toBe("1\u00a0234\u00a0567 просмотров");
    expect(t("video.views", { n: 1 }, "en")).toBe("1 view");
    expect(t("video.views", { n: 1000 }, "en")).toBe("1,000 views");
  });

  it("fills placeholders and leaves unknown ones visible", () => {
    expect(t("search.results", { q: "кошки" }, "ru")).toBe("Результаты по запросу «кошки»");
    expect(t("search.results", {}, "en")).toBe("Results for “{q}”");
  });
});

describe("format", () => {
  it("durations", () => {
    expect(formatDuration(0)).toBe("0:00");
    expect(formatDuration(5.3)).toBe("0:05");
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3725)).toBe("1:02:05");
    expect(formatDuration(-3)).toBe("0:00");
  });

  it("sizes in both languages", () => {
    expect(formatBytes(512, "en")).toBe("512 B");
    expect(formatBytes(1536 * 1024, "en")).toBe("1.5 MB");
    expect(formatBytes(42 * 1024 * 1024, "en")).toBe("42 MB");
    expect(formatBytes(1536 * 1024, "ru")).toBe("1,5 МБ");
  });

  it("time left", () => {
    expect(formatEta(45, "en")).toBe("45 s");
    expect(formatEta(150, "en")).toBe("3 min");
    expect(formatEta(3900, "ru")).toBe("1 ч 5 мин");
    expect(formatEta(Infinity, "en")).toBe("—");
  });

  it("rate over a sliding window", () => {
    const m = new RateMeter(5000);
    expect(m.rate()).toBe(0);
    m.add(0, 0);
    m.add(1000, 1_000_000);
    m.add(2000, 2_000_000);
    expect(m.rate()).toBe(1_000_000);
    expect(m.eta(10_000_000)).toBe(8);
    // Old samples leave the window: the rate follows the recent speed.
    m.add(8000, 2_500_000);
    m.add(10000, 3_500_000);
    expect(m.rate()).toBe(500_000);
  });

  it("relative dates", () => {
    const now = Date.parse("2026-11-23T12:00:00Z");
    expect(timeAgo("2026-11-20T12:00:00Z", now, "en")).toBe("3 days ago");
    expect(timeAgo("2026-11-20T12:00:00Z", now, "ru")).toBe("3 дня назад");
    expect(timeAgo("2026-11-23T11:59:30Z", now, "en")).toBe("30 seconds ago");
  });
});

describe("storyboard", () => {
  const vtt = `WEBVTT

00:00:00.000 --> 00:00:02.000
sheet_000.jpg?token=abc#xywh=0,0,160,90

00:00:02.000 --> 00:00:04.000
sheet_000.jpg?token=abc#xywh=160,0,160,90

broken cue
00:00:04.000 --> 00:00:06.000
no-fragment.jpg

00:01:04.000 --> 00:01:06.500
sheet_001.jpg#xywh=0,90,160,90
`;
  const base = "http://k.test/media/v1/images/storyboard.vtt?token=abc";

  it("parses cues and resolves sheets against the VTT's URL", () => {
    const thumbs = parseStoryboard(vtt, base);
    expect(thumbs).toHaveLength(3);
    expect(thumbs[0]).toEqual({ start: 0, end: 2, url: "http://k.test/media/v1/images/sheet_000.jpg?token=abc", x: 0, y: 0, w: 160, h: 90 });
    expect(thumbs[2]).toMatchObject({ start: 64, end: 66.5, x: 0, y: 90 });
  });

  it("finds the thumbnail for a time", () => {
    const thumbs = parseStoryboard(vtt, base);
    expect(thumbAt(thumbs, 0)?.x).toBe(0);
    expect(thumbAt(thumbs, 3.9)?.x).toBe(160);
    expect(thumbAt(thumbs, 100)?.y).toBe(90);
    expect(thumbAt([], 1)).toBeUndefined();
  });
});

describe("quality menu", () => {
  it("auto first, then every rung from the highest", () => {
    const levels = [
      { height: 360, width: 640, bitrate: 800_000 },
      { height: 720, width: 1280, bitrate: 2_800_000 },
      { height: 240, width: 426, bitrate: 400_000 },
      { height: 720, width: 1280, bitrate: 3_500_000 },
    ];
    expect(qualityOptions(levels, "Auto")).toEqual([
      { level: -1, label: "Auto" },
      { level: 3, label: "720p" },
      { level: 0, label: "360p" },
      { level: 2, label: "240p" },
    ]);
    expect(qualityLabel(-1, levels[0], "Auto")).toBe("Auto (360p)");
    expect(qualityLabel(2, levels[2], "Auto")).toBe("240p");
    expect(qualityLabel(-1, undefined, "Авто")).toBe("Авто");
  });
});

describe("messages", () => {
  const video = (over: Partial<Video>): Video => ({
    id: "x",
    title: "t",
    description: "",
    tags: [],
    privacy: "public",
    status: "ready",
    progress: 100,
    playable: true,
    channel: { id: "c", handle: "h", display_name: "H" },
    is_short: false,
    views: 0,
    likes: 0,
    comments: 0,
    comment_policy: "open",
    downloadable: true,
    created_at: "2026-11-23T00:00:00Z",
    ...over,
  });

  it("says why a video is not an ordinary public one", () => {
    expect(statusLine(video({}))).toBe("");
    expect(statusLine(video({ status: "processing", stage: "transcoding", progress: 40 }))).toBe("Processing: transcoding 40%");
    expect(statusLine(video({ status: "failed", failure: { code: "no_video_stream", message: "The file has no video stream." } }))).toBe(
      "Processing failed: The file has no video stream.",
    );
    expect(statusLine(video({ moderation: { state: "pending" } }))).toBe("Waiting for moderation");
    expect(statusLine(video({ moderation: { state: "rejected", reason: "spam" } }))).toBe("Rejected by moderation: spam");
  });

  it("puts upload failures in words", () => {
    expect(uploadError(413, "too_large", "", 10 * 1024 ** 3)).toBe("The file is too large (limit 10 GB).");
    expect(uploadError(413, "quota_exceeded", "", null)).toBe("Your storage quota is used up.");
    expect(uploadError(500, "", "connection reset", null)).toBe("The upload failed: connection reset");
  });
});

describe("media link renewal", () => {
  const now = Date.parse("2026-11-23T12:00:00Z");
  const min = 60_000;
  const hour = 60 * min;
  const at = (ms: number) => new Date(now + ms).toISOString();

  it("renews nothing for public videos", () => {
    expect(renewDelayMs(null, now)).toBeNull();
    expect(renewDelayMs(undefined, now)).toBeNull();
    expect(renewDelayMs("", now)).toBeNull();
    expect(renewDelayMs("soon", now)).toBeNull();
  });

  it("renews at 80% of the time left or 5 minutes before expiry, whichever is sooner", () => {
    expect(renewDelayMs(at(4 * hour), now)).toBe(3.2 * hour);
    expect(renewDelayMs(at(12 * hour), now)).toBe(9.6 * hour);
    expect(renewDelayMs(at(20 * min), now)).toBe(15 * min);
    // Short-lived links: not before half their time has passed, so no loop of renewals.
    expect(renewDelayMs(at(6 * min), now)).toBe(3 * min);
    expect(renewDelayMs(at(1 * min), now)).toBe(30_000);
  });

  it("reads the server's RFC 3339 times, offsets and nanoseconds included", () => {
    expect(renewDelayMs("2026-11-23T16:00:00.123456789+00:00", now)).toBe(Math.floor(0.8 * (4 * hour + 123)));
    expect(renewDelayMs("2026-11-23T19:00:00+03:00", now)).toBe(3.2 * hour);
  });

  it("is never negative, never below the floor asked for, never past setTimeout's limit", () => {
    expect(renewDelayMs(at(-hour), now)).toBe(0);
    expect(renewDelayMs(at(0), now)).toBe(0);
    expect(renewDelayMs(at(-hour), now, RENEW_MIN_GAP_MS)).toBe(RENEW_MIN_GAP_MS);
    expect(renewDelayMs(at(10_000), now, RENEW_MIN_GAP_MS)).toBe(RENEW_MIN_GAP_MS);
    expect(renewDelayMs(at(4 * hour), now, RENEW_MIN_GAP_MS)).toBe(3.2 * hour);
    expect(renewDelayMs(at(60 * 24 * hour), now)).toBe(MAX_TIMEOUT_MS);
    for (let left = -2 * hour; left <= 90 * 24 * hour; left += 7 * hour + 13) {
      const d = renewDelayMs(at(left), now)!;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThanOrEqual(MAX_TIMEOUT_MS);
      if (left > 0) expect(d).toBeLessThan(left);
    }
  });

  it("knows refused links from other failures", () => {
    expect(linksRefused(403, true)).toBe(true);
    expect(linksRefused(403, false)).toBe(true);
    // An unsigned link answered 404: the video stopped being public.
    expect(linksRefused(404, false)).toBe(true);
    expect(linksRefused(404, true)).toBe(false);
    expect(linksRefused(500, true)).toBe(false);
    expect(linksRefused(0, true)).toBe(false);
    expect(linksRefused(undefined, false)).toBe(false);
  });

  it("takes the server's clock from the Date header", () => {
    const sent = Date.parse("2026-11-23T12:00:00Z");
    expect(clockSkewMs("Mon, 23 Nov 2026 15:00:00 GMT", sent, sent + 200)).toBe(3 * hour + 400);
    expect(clockSkewMs("Mon, 23 Nov 2026 11:59:00 GMT", sent, sent)).toBe(-59_500);
    expect(clockSkewMs(null, sent, sent)).toBeNull();
    expect(clockSkewMs("yesterday", sent, sent)).toBeNull();
  });
});

describe("link renewer", () => {
  const hour = 3_600_000;
  const playback = (id: string, expires: number | null): Playback => ({
    id: "v",
    hls: `http://k.test/media/v/hls/master.m3u8${expires === null ? "" : `?token=${id}`}`,
    storyboard: null,
    expires_at: expires === null ? null : new Date(Date.now() + expires).toISOString(),
    live_edge: false,
  });
  const hooks = (answers: (() => Playback)[]) => {
    const h = {
      fetched: 0,
      applied: [] as [string, boolean][],
      gone: 0,
      failed: 0,
      // An answer that throws is a rejection, as from the API.
      fetch: () =>
        new Promise<Playback>((ok) => {
          const next = answers[h.fetched++];
          if (!next) throw new Error("no more answers");
          ok(next());
        }),
      apply: (pb: Playback, reload: boolean) => void h.applied.push([pb.hls.split("=")[1] ?? "", reload]),
      onGone: () => void h.gone++,
      onFailed: () => void h.failed++,
    };
    return { h, hooks: { fetch: h.fetch, apply: h.apply, gone: h.onGone, failed: h.onFailed, now: () => Date.now() } };
  };

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-11-23T12:00:00Z"));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sets no timer for a public video", () => {
    const { h, hooks: k } = hooks([]);
    const r = new LinkRenewer(playback("", null), k);
    expect(vi.getTimerCount()).toBe(0);
    r.stop();
    expect(h.fetched).toBe(0);
  });

  it("asks for fresh links before they expire, and again before those do", async () => {
    const { h, hooks: k } = hooks([() => playback("b", 4 * hour), () => playback("c", 4 * hour)]);
    const r = new LinkRenewer(playback("a", 4 * hour), k);
    await vi.advanceTimersByTimeAsync(3.2 * hour - 1);
    expect(h.fetched).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(h.applied).toEqual([["b", false]]);
    await vi.advanceTimersByTimeAsync(3.2 * hour);
    expect(h.applied).toEqual([
      ["b", false],
      ["c", false],
    ]);
    r.stop();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tries a failed renewal again later, and gives the video up on a 404", async () => {
    const { h, hooks: k } = hooks([
      () => {
        throw new ApiError(503, "unavailable", "");
      },
      () => {
        throw new ApiError(404, "not_found", "");
      },
    ]);
    new LinkRenewer(playback("a", 4 * hour), k);
    await vi.advanceTimersByTimeAsync(3.2 * hour);
    expect(h.fetched).toBe(1);
    expect(h.gone).toBe(0);
    await vi.advanceTimersByTimeAsync(RENEW_RETRY_MS);
    expect(h.fetched).toBe(2);
    expect(h.gone).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("asks once when the links are refused, and gives up if the fresh ones are refused too", async () => {
    const { h, hooks: k } = hooks([() => playback("b", 4 * hour), () => playback("c", 4 * hour), () => playback("d", 4 * hour)]);
    const r = new LinkRenewer(playback("a", 4 * hour), k);
    r.refused();
    r.refused(); // more failed requests of the same moment
    await vi.advanceTimersByTimeAsync(0);
    expect(h.applied).toEqual([["b", true]]);
    // Media loaded with the fresh links: a later refusal (another privacy change) asks again.
    r.loaded();
    r.refused();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.applied.at(-1)).toEqual(["c", true]);
    // Refused again before anything loaded: no loop.
    r.refused();
    await vi.advanceTimersByTimeAsync(hour);
    expect(h.fetched).toBe(2);
    expect(h.failed).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    // The viewer's "try again".
    r.retry();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.applied.at(-1)).toEqual(["d", true]);
    r.stop();
  });

  it("shows the video gone when the refused links' video is no longer visible", async () => {
    const { h, hooks: k } = hooks([
      () => {
        throw new ApiError(404, "not_found", "");
      },
    ]);
    const r = new LinkRenewer(playback("a", 4 * hour), k);
    r.refused();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.gone).toBe(1);
    expect(h.failed).toBe(0);
  });

  it("does nothing once stopped, even when an answer comes later", async () => {
    let answer: (pb: Playback) => void = () => {};
    const { h, hooks: k } = hooks([]);
    k.fetch = () => new Promise<Playback>((resolve) => (answer = resolve));
    const r = new LinkRenewer(playback("a", 4 * hour), k);
    r.refused();
    r.stop();
    answer(playback("b", 4 * hour));
    await vi.advanceTimersByTimeAsync(10 * hour);
    expect(h.applied).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("catches up when the page wakes after the timer was held back", async () => {
    const { h, hooks: k } = hooks([() => playback("b", 4 * hour)]);
    const r = new LinkRenewer(playback("a", 4 * hour), k);
    r.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.fetched).toBe(0);
    // The machine slept: the clock moved on, the timer did not fire.
    vi.setSystemTime(Date.now() + 3.5 * hour);
    r.wake();
    await vi.advanceTimersByTimeAsync(0);
    expect(h.applied).toEqual([["b", false]]);
    r.stop();
  });
});
