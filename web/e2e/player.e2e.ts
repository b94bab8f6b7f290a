// The player in Debian's chromium (playwright-core) against `kadr all` (see server.ts): played
// by keyboard alone, speed, volume, theatre mode, the share dialog, `?t=`, recovery from a
// lost network, right to left, the embed on a page of another origin, the time to the first
// frame on the watch page and in the embed, and axe-core's serious findings on both.
import { join } from "node:path";
import type { Browser, Frame, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { api, ARTIFACTS, axeSerious, CLIP, context, eventually, launch, listedVideo, serveHtml, shot, signIn, testClip } from "./helpers";

const base = inject("base");
let browser: Browser;
let admin: string;
/** A 30 s test pattern (room to seek) and the real clip (5 s of Big Buck Bunny, 720p). */
let long: string;
let bunny: string;

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
  const clip = testClip(join(ARTIFACTS, "media"), 30);
  [long, bunny] = await Promise.all([
    listedVideo(base, admin, admin, clip, { title: "Тестовая таблица 30 с" }),
    listedVideo(base, admin, admin, CLIP, { title: "Big Buck Bunny" }),
  ]);
});
afterAll(async () => {
  await browser?.close();
});

/** The first <video> of the page or frame: time, paused, rate, volume, muted. */
function state(target: Page | Frame) {
  return target.$eval("video", (v: HTMLVideoElement) => ({ time: v.currentTime, paused: v.paused, rate: v.playbackRate, volume: v.volume, muted: v.muted }));
}

/** Tabs until the focus is on `selector` (at most `max` presses); fails otherwise. */
async function tabTo(page: Page, selector: string, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press("Tab");
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
  }
  throw new Error(`Tab never reached ${selector}`);
}

test("keyboard alone: Tab to play, Enter plays, k pauses, l seeks, ? shows the help, Escape closes it; speed, volume, theatre", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".controls .play");
    await tabTo(page, ".controls .play");
    // The focus is visible.
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe("none");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => {
      const v = document.querySelector("video")!;
      return !v.paused && v.currentTime > 0.5;
    }, undefined, { timeout: 30_000 });
    await page.keyboard.press("k");
    await page.waitForFunction(() => document.querySelector("video")!.paused);
    const before = (await state(page)).time;
    await page.keyboard.press("l");
    await page.waitForFunction((t) => Math.abs(document.querySelector("video")!.currentTime - (t + 10)) < 0.6, before);
    await page.keyboard.press("j");
    await page.waitForFunction((t) => Math.abs(document.querySelector("video")!.currentTime - t) < 0.6, before);
    // The time display follows the seek on the next `timeupdate`: wait for it, then read it.
    await page.waitForFunction(() => /^0:0\d \//.test(document.querySelector("[data-testid=player-time]")?.textContent ?? ""));
    expect(await page.textContent("[data-testid=player-time]")).toMatch(/^0:0\d \/ 0:30/);

    await page.keyboard.press("?");
    await page.waitForSelector("[data-testid=player-help]", { state: "visible" });
    expect(await page.textContent("[data-testid=player-help]")).toContain("Keyboard shortcuts");
    await page.keyboard.press("Escape");
    await page.waitForSelector("[data-testid=player-help]", { state: "hidden" });

    // Speed: two presses of ">", then the menu by keyboard (Enter opens it on the current
    // speed, ArrowDown, Enter chooses).
    await page.keyboard.press(">");
    await page.keyboard.press(">");
    expect((await state(page)).rate).toBe(1.5);
    await page.focus(".controls .ctl.speed");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".speed-menu", { state: "visible" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("1.5×");
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("Enter");
    expect((await state(page)).rate).toBe(1.75);
    await page.waitForSelector(".speed-menu", { state: "hidden" });
    expect(await page.evaluate(() => document.activeElement?.matches(".ctl.speed"))).toBe(true);
    await page.keyboard.press("Escape");

    // Volume: the slider by its arrows, remembered.
    await tabTo(page, ".controls .volume");
    for (let i = 0; i < 4; i++) await page.keyboard.press("ArrowDown");
    expect((await state(page)).volume).toBeCloseTo(0.8, 2);
    expect(await page.evaluate(() => localStorage.getItem("kadr.player.volume"))).toBe("0.8");

    // Theatre: the player takes the layout's whole width; remembered after a reload.
    const width = () => page.$eval(".player", (el) => el.getBoundingClientRect().width);
    const narrow = await width();
    await page.keyboard.press("t");
    await page.waitForSelector(".watch-layout.theatre");
    const wide = await width();
    expect(wide).toBeGreaterThan(narrow + 200);
    await shot(page, "player-theatre");
    await page.reload();
    await page.waitForSelector(".controls .play");
    expect(await page.$eval("[data-testid=watch-layout]", (el) => el.classList.contains("theatre"))).toBe(true);
    expect((await state(page)).volume).toBeCloseTo(0.8, 2);
    await page.click(".controls .theatre");
    await page.waitForSelector(".watch-layout:not(.theatre)");
    expect(await width()).toBeCloseTo(narrow, 0);
  } finally {
    await shot(page, "player-keyboard");
    await ctx.close();
  }
});

test("chapters from the description: segments on the seek bar, the title in the time display and on hover, the list seeks", async () => {
  await api(base, "PATCH", `/api/v1/videos/${long}`, admin, { description: "Три части:\n0:00 Начало\n0:10 Середина\n0:20 Конец" });
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".controls .play");
    await page.waitForFunction(() => document.querySelectorAll(".seek-seg").length === 3);
    const items = await page.$$eval("[data-testid=chapter-item]", (els) => els.map((e) => e.textContent));
    expect(items).toEqual(["0:00Начало", "0:10Середина", "0:20Конец"]);
    // The segments share the bar as the chapters share the video.
    const widths = await page.$$eval(".seek-seg", (els) => els.map((e) => e.getBoundingClientRect().width));
    expect(Math.max(...widths) / Math.min(...widths)).toBeLessThan(1.05);
    await page.click("[data-testid=chapter-item] >> nth=1");
    await page.waitForFunction(() => document.querySelector("video")!.currentTime >= 10);
    await page.waitForFunction(() => document.querySelector(".time-chapter")?.textContent === "Середина");
    expect(await page.getAttribute("[data-testid=chapter-item] >> nth=1", "aria-current")).toBe("true");
    // Hovering over the last third of the bar names the last chapter (once the page has
    // scrolled the player into view, smoothly, after the seek).
    await page.waitForFunction(() => {
      const w = window as unknown as { __lastY?: number };
      const same = w.__lastY === scrollY;
      w.__lastY = scrollY;
      return same;
    }, undefined, { polling: 200 });
    const box = (await (await page.$(".seek-wrap"))!.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.85, box.y + box.height / 2, { steps: 4 });
    await page.waitForFunction(() => document.querySelector(".preview-chapter")?.textContent === "Конец");
    await shot(page, "player-chapters");
  } finally {
    await ctx.close();
  }
});

test("subtitles: the menu lists the video's languages, the choice shows its cues and is taken again on the next visit; c turns them off", async () => {
  const cues = (word: string) => `WEBVTT\n\n00:00:00.000 --> 00:00:30.000\n${word}\n`;
  for (const [lang, label, word] of [["en", "English", "Hello"], ["ru", "Русский", "Привет"]]) {
    const res = await fetch(`${base}/api/v1/videos/${long}/captions/${lang}?label=${encodeURIComponent(label)}`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin}`, "content-type": "text/vtt" },
      body: cues(word),
    });
    expect(res.status, await res.clone().text()).toBeLessThan(300);
  }
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  /** The language of the text track showing, and its cue there (or "" when none shows). */
  const showing = () =>
    page.evaluate(() => {
      const track = [...document.querySelector("video")!.textTracks].find((tr) => tr.mode === "showing");
      const cue = track?.activeCues?.[0] as VTTCue | undefined;
      return track ? `${track.language}:${cue?.text ?? ""}` : "";
    });
  try {
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".controls .captions-wrap:not([hidden])", { timeout: 30_000 });
    // Off until the viewer turns them on.
    expect(await showing()).toBe("");
    await page.click(".controls .ctl.captions");
    const labels = await page.$$eval(".captions-menu .menu-item", (els) => els.map((e) => e.textContent));
    expect(labels).toEqual(["Off", "English", "Русский"]);
    await page.click(`.captions-menu .menu-item:text-is("Русский")`);
    await page.click(".controls .play");
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 0.5);
    await eventually("Russian cues", async () => (await showing()) === "ru:Привет");
    expect(await page.evaluate(() => localStorage.getItem("kadr.player.captions"))).toBe("ru");
    expect(await page.getAttribute(".controls .ctl.captions", "aria-pressed")).toBe("true");
    await shot(page, "player-captions");

    // The next visit: Russian again, by itself.
    await page.reload();
    await page.waitForSelector(".controls .captions-wrap:not([hidden])", { timeout: 30_000 });
    await page.click(".controls .play");
    await eventually("Russian cues after a reload", async () => (await showing()) === "ru:Привет");
    await page.keyboard.press("c");
    await eventually("subtitles off", async () => (await showing()) === "");
    expect(await page.evaluate(() => localStorage.getItem("kadr.player.captions"))).toBe("off");
  } finally {
    await ctx.close();
  }
});

test("share dialog: the link, at the current time, and the embed code; ?t= starts there", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${long}?t=12`);
    await page.waitForSelector(".controls .play");
    await page.click(".controls .play");
    await page.waitForFunction(() => {
      const v = document.querySelector("video")!;
      return !v.paused && v.currentTime >= 12;
    }, undefined, { timeout: 30_000 });
    await page.keyboard.press("k");
    const at = Math.floor((await state(page)).time);
    expect(at).toBeGreaterThanOrEqual(12);

    await page.click("[data-testid=share]");
    await page.waitForSelector("[data-testid=share-dialog]");
    const link = () => page.inputValue("[data-testid=share-link]");
    expect(await link()).toBe(`${base}/watch/${long}`);
    await page.check("[data-testid=share-at]");
    expect(await link()).toBe(`${base}/watch/${long}?t=${at}`);
    const code = () => page.inputValue("[data-testid=share-embed]");
    expect(await code()).toBe(
      `<iframe width="560" height="315" src="${base}/embed/${long}" title="Тестовая таблица 30 с" frameborder="0" ` +
        `allow="autoplay; encrypted-media; picture-in-picture; fullscreen" allowfullscreen></iframe>`,
    );
    await page.check("[data-testid=share-embed-autoplay]");
    await page.check("[data-testid=share-embed-loop]");
    expect(await code()).toContain(`src="${base}/embed/${long}?autoplay=1&amp;loop=1"`);
    await page.click("[data-testid=share-link-copy]");
    await shot(page, "player-share");
    // Keys typed in the dialog are not the player's.
    await page.focus("[data-testid=share-start-time]");
    await page.keyboard.press("k");
    expect((await state(page)).paused).toBe(true);
    await page.keyboard.press("Escape");
    await page.waitForSelector("[data-testid=share-dialog]", { state: "detached" });
  } finally {
    await ctx.close();
  }
});

test("a lost network: the player says it is reconnecting, then plays once the media answers", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    // Every media request fails until the network "comes back".
    let down = true;
    await page.route("**/media/**", (route) => (down ? route.abort("internetdisconnected") : route.fallback()));
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".player.is-reconnecting", { timeout: 30_000 });
    expect(await page.textContent("[data-testid=player-status]")).toContain("Reconnecting");
    await shot(page, "player-reconnecting");
    down = false;
    await page.waitForSelector(".player:not(.is-reconnecting)", { timeout: 30_000 });
    await page.click(".controls .play");
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 1, undefined, { timeout: 30_000 });
  } finally {
    await ctx.close();
  }
});

test("right to left: the controls mirror, the seek bar does not", async () => {
  const ctx = await context(browser, base);
  await ctx.addInitScript(() => localStorage.setItem("kadr.lang", "ar"));
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".controls .play");
    expect(await page.getAttribute("html", "dir")).toBe("rtl");
    const x = (sel: string) => page.$eval(sel, (el) => el.getBoundingClientRect().x);
    // The play button at the right end, full screen at the left.
    expect(await x(".controls .play")).toBeGreaterThan(await x(".controls .full"));
    expect(await page.$eval(".seek-wrap", (el) => getComputedStyle(el).direction)).toBe("ltr");
    expect(await page.getAttribute(".controls .play", "aria-label")).toBe("تشغيل");
    // Time runs left to right: seeking to 90 % fills the bar from the left.
    await page.focus(".controls .play");
    await page.keyboard.press("9");
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 20);
    // (Over every chapter's segment: the video may have chapters by now.) The bar follows the
    // time on its next frame: waited for until it has moved past 80 %, then read.
    const moved = await page.waitForFunction(() => {
      const bar = document.querySelector(".seek-track")!.getBoundingClientRect();
      const parts = [...document.querySelectorAll(".seek-played")].map((el) => el.getBoundingClientRect()).filter((r) => r.width > 0);
      if (!parts.length) return null;
      const right = (Math.max(...parts.map((r) => r.right)) - bar.left) / bar.width;
      return right > 0.8 ? { left: Math.min(...parts.map((r) => r.left)) - bar.left, right } : null;
    });
    const played = (await moved.jsonValue())!;
    expect(played.left).toBeLessThan(1);
    expect(played.right).toBeGreaterThan(0.8);
    await shot(page, "player-rtl");
  } finally {
    await ctx.close();
  }
});

test("touch: a double tap on the right third goes forward 10 s with a ripple there, on the left third back", async () => {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 412, height: 860 }, hasTouch: true, isMobile: true, locale: "en-US" });
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${long}?t=5`);
    await page.waitForSelector(".controls .play");
    await page.tap(".controls .play");
    await page.waitForFunction(() => document.querySelector("video")!.currentTime >= 5);
    await page.tap(".controls .play");
    await page.waitForFunction(() => document.querySelector("video")!.paused);
    const box = (await (await page.$("video"))!.boundingBox())!;
    const doubleTap = async (share: number) => {
      const x = box.x + box.width * share;
      const y = box.y + box.height * 0.4;
      await page.touchscreen.tap(x, y);
      await page.touchscreen.tap(x, y);
    };
    const before = (await state(page)).time;
    await doubleTap(0.85);
    await page.waitForSelector(".player-ripple[data-side='1']:not([hidden])");
    await page.waitForFunction((t) => Math.abs(document.querySelector("video")!.currentTime - (t + 10)) < 0.6, before);
    await shot(page, "player-double-tap");
    await page.waitForSelector(".player-ripple", { state: "hidden" });
    await doubleTap(0.15);
    await page.waitForSelector(".player-ripple[data-side='-1']:not([hidden])");
    await page.waitForFunction((t) => Math.abs(document.querySelector("video")!.currentTime - t) < 0.6, before);
    // Taps never played or paused the video.
    expect((await state(page)).paused).toBe(true);
  } finally {
    await ctx.close();
  }
});

/** Records, in the page, when the first <video> fired `playing` and presented its first frame
 * (ms since navigation began); with `play`, asks it to play as soon as it exists. */
function measureStartup(play: boolean) {
  const w = window as unknown as { __startup: { playing?: number; frame?: number } };
  w.__startup = {};
  const hook = (v: HTMLVideoElement) => {
    v.addEventListener("playing", () => (w.__startup.playing ??= performance.now()), { once: true });
    v.requestVideoFrameCallback(() => (w.__startup.frame ??= performance.now()));
    // As a viewer pressing play the moment the player is there: once it has a source (a
    // play() before that is cancelled when hls.js attaches its own).
    if (play) v.addEventListener("loadstart", () => void v.play().catch(() => {}), { once: true });
  };
  new MutationObserver((_, obs) => {
    const v = document.querySelector("video");
    if (v) {
      obs.disconnect();
      hook(v);
    }
  }).observe(document, { childList: true, subtree: true });
}

async function startup(target: Page | Frame): Promise<{ playing: number; frame: number }> {
  await target.waitForFunction(() => {
    const s = (window as unknown as { __startup: { playing?: number; frame?: number } }).__startup;
    return s.playing !== undefined && s.frame !== undefined;
  }, undefined, { timeout: 30_000 });
  return target.evaluate(() => (window as unknown as { __startup: { playing: number; frame: number } }).__startup);
}

test("time to the first frame on the watch page and in the embed", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    // Warm: the UI's files in the cache, as for a viewer who has been here before.
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".controls .play");
    await page.addInitScript(measureStartup, true);
    const watch = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`/watch/${bunny}`);
      watch.push(await startup(page));
    }
    const embed = [];
    for (let i = 0; i < 3; i++) {
      await page.goto(`/embed/${bunny}?autoplay=1`);
      embed.push(await startup(page));
    }
    const fmt = (xs: { playing: number; frame: number }[]) => xs.map((s) => `${Math.round(s.frame)}`).join(", ");
    console.log(`startup ms (navigation to first frame, 720p clip): watch page ${fmt(watch)}; embed ${fmt(embed)}`);
    console.log(`startup ms (navigation to playing): watch page ${watch.map((s) => Math.round(s.playing)).join(", ")}; embed ${embed.map((s) => Math.round(s.playing)).join(", ")}`);
    for (const s of [...watch, ...embed]) expect(s.frame).toBeLessThan(10_000);
  } finally {
    await ctx.close();
  }
});

test("the embed on a page of another origin plays, muted with a button to unmute; the title links to the watch page", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  const src = `${base}/embed/${long}?autoplay=1&t=3`;
  // Another origin and another site: localhost, where kadr is 127.0.0.1, on another port.
  const host = await serveHtml(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>A blog</title></head><body><main><h1>A blog</h1>` +
      `<iframe width="560" height="315" src="${src}" title="Тестовая таблица" frameborder="0" allow="autoplay; encrypted-media; picture-in-picture; fullscreen" allowfullscreen></iframe>` +
      `</main></body></html>`,
  );
  try {
    const seen: string[] = [];
    page.on("console", (m) => seen.push(`console ${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => seen.push(`error: ${e.message}`));
    page.on("response", (r) => {
      if (r.url().includes("/embed/")) seen.push(`${r.status()} ${r.url()} ${r.headers()["content-security-policy"] ?? ""}`);
    });
    await page.goto(`http://localhost:${host.port}/`);
    const frame = await (await page.waitForSelector("iframe")).contentFrame();
    if (!frame) throw new Error("no frame");
    await frame.waitForSelector("video", { timeout: 30_000 }).catch(async (e: unknown) => {
      console.log(seen.join("\n"), "\nframe:", frame.url(), await frame.content().catch(() => "?"));
      throw e;
    });
    await frame.waitForFunction(() => {
      const v = document.querySelector("video")!;
      return v.currentTime > 4 && !v.paused && v.videoWidth > 0;
    }, undefined, { timeout: 30_000 });
    expect((await state(frame)).muted).toBe(true);
    const title = await frame.$("[data-testid=embed-title]");
    expect(await title!.getAttribute("href")).toBe(`/watch/${long}`);
    expect(await title!.getAttribute("target")).toBe("_blank");
    expect(await title!.textContent()).toBe("Тестовая таблица 30 с");
    await frame.click("[data-testid=embed-unmute]");
    expect((await state(frame)).muted).toBe(false);
    await frame.waitForSelector("[data-testid=embed-unmute]", { state: "hidden" });
    await shot(page, "player-embed-other-origin");
  } finally {
    await ctx.close();
    await host.close();
  }
});

test("the embed of a playlist goes on to its next video; a missing video says so in the frame", async () => {
  const list = await api<{ id: string }>(base, "POST", "/api/v1/playlists", admin, { title: "Embed list", privacy: "public" });
  await api(base, "PUT", `/api/v1/playlists/${list.id}/videos/${bunny}`, admin);
  await api(base, "PUT", `/api/v1/playlists/${list.id}/videos/${long}`, admin);
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto(`/embed/playlist/${list.id}?autoplay=1`);
    await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 0.5, undefined, { timeout: 30_000 });
    expect(await page.textContent("[data-testid=embed-title]")).toBe("Big Buck Bunny");
    // To the end of the first (5 s), then the second starts by itself.
    await page.waitForURL(new RegExp(`/embed/${long}\\?list=${list.id}&autoplay=1$`), { timeout: 30_000 });
    await page.waitForSelector(`[data-testid=embed-title]:text-is("Тестовая таблица 30 с")`);
    await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 0.5, undefined, { timeout: 30_000 });

    await page.goto(`/embed/00000000-0000-4000-8000-000000000000`);
    await page.waitForSelector("[data-testid=notfound]");
    expect(await page.textContent("[data-testid=notfound]")).toContain("not available");
  } finally {
    await ctx.close();
  }
});

test("axe-core finds nothing serious or critical on the watch page and in the embed", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${long}`);
    await page.waitForSelector(".controls .play");
    await page.click(".controls .play");
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 0.5);
    // With the menus and the share dialog's contents in the page too.
    await page.click(".controls .ctl.speed");
    const watch = await axeSerious(page);
    await page.keyboard.press("Escape");
    await page.click("[data-testid=share]");
    await page.waitForSelector("[data-testid=share-dialog]");
    const dialog = await axeSerious(page);
    await page.goto(`/embed/${long}`);
    await page.waitForSelector(".controls .play");
    const embed = await axeSerious(page);
    console.log("axe (serious, critical):", JSON.stringify({ watch, dialog, embed }, null, 1));
    expect({ watch, dialog, embed }).toEqual({ watch: [], dialog: [], embed: [] });
  } finally {
    await ctx.close();
  }
});
