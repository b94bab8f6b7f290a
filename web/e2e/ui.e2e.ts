// The web UI in Debian's chromium (playwright-core) against `kadr all` (see server.ts).
import { randomBytes } from "node:crypto";
import { mkdirSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import {
  api,
  ARTIFACTS,
  bigClip,
  CLIP,
  context,
  launch,
  MAX_UPLOAD,
  newUser,
  playsPast,
  shot,
  signIn,
  tusUpload,
  verticalClip,
  waitVideo,
} from "./helpers";

const base = inject("base");
let browser: Browser;
let admin: string;

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
});
afterAll(async () => {
  await browser?.close();
});

test("register, upload through the page, reach playable, watch; the quality menu switches rungs", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    const username = `viewer${Date.now() % 100000}`;
    await page.goto("/register");
    await page.fill("input[name=username]", username);
    await page.fill("input[name=email]", `${username}@example.org`);
    await page.fill("input[name=password]", "correct horse battery");
    await page.click("form.auth-form button[type=submit]");
    await page.waitForSelector(`[data-testid=user]:has-text("${username}")`);

    await page.goto("/upload");
    await page.setInputFiles("[data-testid=file]", CLIP);
    await page.fill("[data-testid=title]", "Большой кролик");
    await page.click("[data-testid=start]");
    // Progress in words while the bytes go, then the transcode's state.
    await page.waitForSelector("[data-testid=video-state][data-playable=true]", { timeout: 150_000 });
    await page.click("[data-testid=watch-link]");
    await page.waitForURL(/\/watch\/[0-9a-f-]{36}$/);
    expect(await page.textContent("[data-testid=watch-title]")).toBe("Большой кролик");
    await page.click(".controls .play");
    await playsPast(page, 2);

    // Quality: the highest rung, then the lowest; the picture's height follows.
    const heights = await page.$$eval(".quality-item", (items) => items.map((i) => i.textContent ?? ""));
    expect(heights[0]).toMatch(/^Auto/);
    // The sound alone comes last (the clip has sound: the master lists an audio-only variant).
    expect(heights.at(-1)).toBe("Audio only");
    const rungs = heights.slice(1, -1).map((h) => Number.parseInt(h, 10));
    expect(heights.slice(1, -1)).toEqual(rungs.map((r) => `${r}p`));
    expect(rungs.length).toBeGreaterThan(1);
    expect(rungs).toEqual([...rungs].sort((a, b) => b - a));
    const pick = async (label: string, height: number) => {
      await page.click(".controls .quality");
      await page.click(`.quality-item:text-is("${label}")`);
      await page.waitForFunction(
        (h) => {
          const v = document.querySelector("video")!;
          if (v.ended) {
            v.currentTime = 0;
            void v.play();
          }
          return v.videoHeight === h;
        },
        height,
        { timeout: 30_000 },
      );
    };
    await pick(`${rungs[0]}p`, rungs[0]);
    await pick(`${rungs[rungs.length - 1]}p`, rungs[rungs.length - 1]);
    expect(await page.textContent(".controls .quality")).toBe(`${rungs[rungs.length - 1]}p`);
  } finally {
    await shot(page, "upload-and-watch");
    await ctx.close();
  }
});

test("a vertical clip appears in the shorts feed and plays there", async () => {
  const clip = verticalClip(join(ARTIFACTS, "media"));
  const id = await tusUpload(base, admin, clip, { title: "Вертикальное видео" });
  const v = await waitVideo(base, admin, id, (v) => v.status === "ready");
  expect(v.is_short).toBe(true);
  const ctx = await context(browser, base, undefined, { width: 375, height: 812 });
  const page = await ctx.newPage();
  try {
    await page.goto("/shorts");
    const slide = `[data-testid=short][data-video-id="${id}"]`;
    await page.waitForSelector(slide, { timeout: 30_000 });
    await page.locator(slide).scrollIntoViewIfNeeded();
    await playsPast(page, 1, `${slide} video`);
    expect(await page.$eval(`${slide} video`, (el) => (el as HTMLVideoElement).muted)).toBe(true);
    // A tap unmutes.
    await page.click(`${slide} .short-stage`);
    expect(await page.$eval(`${slide} video`, (el) => (el as HTMLVideoElement).muted)).toBe(false);
  } finally {
    await shot(page, "shorts");
    await ctx.close();
  }
});

test("a pending video reaches the home page only once a moderator approves it", async () => {
  const uploader = await newUser(base, "author");
  const title = `На модерации ${Date.now()}`;
  const id = await tusUpload(base, uploader.token, CLIP, { title });
  const v = await waitVideo(base, uploader.token, id, (v) => v.status === "ready");
  expect(v.moderation?.state).toBe("pending");

  const visitor = await context(browser, base);
  const home = await visitor.newPage();
  const card = `[data-testid=video-card][data-video-id="${id}"]`;
  await home.goto("/");
  await home.waitForSelector("[data-testid=grid]");
  await home.waitForLoadState("networkidle");
  expect(await home.$(card)).toBeNull();

  const modCtx = await context(browser, base, admin);
  const mod = await modCtx.newPage();
  try {
    await mod.goto("/moderation");
    const item = `[data-testid=mod-item][data-video-id="${id}"]`;
    await mod.waitForSelector(item);
    await mod.click(`${item} [data-testid=approve]`);
    await mod.waitForSelector(item, { state: "detached" });
  } finally {
    await shot(mod, "moderation");
    await modCtx.close();
  }

  // Anonymous pages are cached for a second.
  try {
    const until = Date.now() + 15_000;
    for (;;) {
      await home.goto("/");
      await home.waitForLoadState("networkidle");
      if (await home.$(card)) break;
      expect(Date.now() < until, "approved video never reached the home page").toBe(true);
      await home.waitForTimeout(500);
    }
    expect(await home.textContent(`${card} .card-title`)).toBe(title);
  } finally {
    await shot(home, "home-after-approval");
    await visitor.close();
  }
});

test("a private video's watch page works for its owner and not for another user", async () => {
  const owner = await newUser(base, "owner");
  const other = await newUser(base, "other");
  const id = await tusUpload(base, owner.token, CLIP, { title: "Личное видео", privacy: "private" });
  await waitVideo(base, owner.token, id, (v) => v.playable);

  const mine = await context(browser, base, owner.token);
  const page = await mine.newPage();
  try {
    await page.goto(`/watch/${id}`);
    expect(await page.textContent("[data-testid=watch-title]")).toBe("Личное видео");
    await page.click(".controls .play");
    await playsPast(page, 2);
  } finally {
    await shot(page, "private-owner");
    await mine.close();
  }

  const theirs = await context(browser, base, other.token);
  const denied = await theirs.newPage();
  try {
    await denied.goto(`/watch/${id}`);
    await denied.waitForSelector("[data-testid=notfound]");
    expect(await denied.$("video")).toBeNull();
    // Nor through the API or the media paths directly.
    await expect(api(base, "GET", `/api/v1/videos/${id}/playback`, other.token)).rejects.toThrow(/404/);
    const master = await fetch(`${base}/media/${id}/hls/master.m3u8`);
    expect([403, 404]).toContain(master.status);
  } finally {
    await shot(denied, "private-other");
    await theirs.close();
  }
});

test("search follows typing, and the interface switches to Russian", async () => {
  const title = `Кошки в саду ${Date.now() % 100000}`;
  const id = await tusUpload(base, admin, CLIP, { title });
  await waitVideo(base, admin, id, (v) => v.playable);
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto("/");
    expect(await page.textContent("nav.nav a[href='/']")).toBe("Home");
    await page.selectOption("[data-testid=lang]", "ru");
    await page.waitForSelector("nav.nav a[href='/']:text-is('Главная')");
    // Typed one key at a time: the results page follows without pressing Enter.
    await page.locator("[data-testid=search]").pressSequentially("кошки в са", { delay: 60 });
    await page.waitForURL((u) => u.pathname === "/search" && u.searchParams.get("q") === "кошки в са");
    await page.waitForSelector(`[data-testid=video-card][data-video-id="${id}"]`);
    expect(await page.textContent(".page-title")).toBe("Результаты по запросу «кошки в са»");
    expect(await page.textContent(`[data-video-id="${id}"] .card-title`)).toBe(title);
  } finally {
    await shot(page, "search-ru");
    await ctx.close();
  }
});

test("upload errors are told in words, and an upload resumes after the page is reloaded", async () => {
  const dir = join(ARTIFACTS, "media");
  mkdirSync(dir, { recursive: true });
  const user = await newUser(base, "resumer");
  const ctx = await context(browser, base, user.token);
  const page = await ctx.newPage();
  const error = "[data-testid=upload-error]";
  try {
    // Over the server's limit: refused before a byte is sent.
    const big = join(dir, "too-big.mp4");
    writeFileSync(big, "");
    truncateSync(big, MAX_UPLOAD + 1);
    await page.goto("/upload");
    await page.setInputFiles("[data-testid=file]", big);
    await page.waitForSelector(`${error}:visible`);
    expect(await page.textContent(error)).toBe("The file is too large (limit 64 MB).");

    // Not a video: accepted as bytes, then refused by the worker's probe, with its reason.
    const junk = join(dir, "not-a-video.mp4");
    writeFileSync(junk, randomBytes(200_000));
    await page.goto("/upload");
    await page.setInputFiles("[data-testid=file]", junk);
    await page.click("[data-testid=start]");
    await page.waitForSelector(`${error}:visible`, { timeout: 60_000 });
    expect(await page.textContent(error)).toMatch(/^The file was rejected: \S.+/);

    // A two-chunk upload: the second chunk is held, the page is reloaded mid-upload, and the
    // same file picked again goes on from the end of the first chunk, into the same video.
    const clip = bigClip(dir);
    const size = statSync(clip).size;
    expect(size).toBeGreaterThan(16 * 1024 * 1024);
    const sent: { method: string; offset?: string }[] = [];
    page.on("request", (r) => {
      if (r.url().includes("/api/v1/uploads")) sent.push({ method: r.method(), offset: r.headers()["upload-offset"] });
    });
    let created = "";
    page.on("response", (r) => {
      if (r.request().method() === "POST" && r.url().endsWith("/api/v1/uploads")) created = r.headers()["kadr-video-id"] ?? "";
    });
    await page.route("**/api/v1/uploads/*", async (route) => {
      const r = route.request();
      if (r.method() === "PATCH" && r.headers()["upload-offset"] !== "0") return; // held
      await route.continue();
    });
    await page.goto("/upload");
    await page.setInputFiles("[data-testid=file]", clip);
    await page.fill("[data-testid=title]", "Продолжение загрузки");
    await page.click("[data-testid=start]");
    await expect.poll(() => sent.some((s) => s.method === "PATCH" && s.offset !== "0"), { timeout: 60_000 }).toBe(true);
    const chunk = Number(sent.find((s) => s.method === "PATCH" && s.offset !== "0")?.offset);
    expect(chunk).toBe(16 * 1024 * 1024);
    expect(created).toMatch(/^[0-9a-f-]{36}$/);

    // The reload cancels the held request; only then is the route lifted (lifting it first
    // would let the held chunk through).
    await page.reload();
    await page.unrouteAll({ behavior: "ignoreErrors" });
    sent.length = 0;
    await page.setInputFiles("[data-testid=file]", clip);
    // The page recognises the file and restores what it was given; an edit made now still counts.
    await page.waitForSelector("[data-testid=upload-info]:has-text('Part of this file was uploaded earlier')");
    expect(await page.inputValue("[data-testid=title]")).toBe("Продолжение загрузки");
    await page.fill("[data-testid=title]", "Продолжение загрузки, исправлено");
    await page.click("[data-testid=start]");
    await page.waitForSelector("[data-testid=video-state][data-playable=true]", { timeout: 150_000 });
    // No new upload was created, and the bytes went on from the first chunk's end.
    expect(sent.filter((s) => s.method === "POST")).toEqual([]);
    expect(sent.find((s) => s.method === "PATCH")?.offset).toBe(String(chunk));
    expect(await page.getAttribute("[data-testid=watch-link]", "href")).toBe(`/watch/${created}`);
    const v = await api<{ title: string; size_bytes: number }>(base, "GET", `/api/v1/videos/${created}`, user.token);
    expect(v.title).toBe("Продолжение загрузки, исправлено");
    expect(v.size_bytes).toBe(size);
  } finally {
    await shot(page, "upload-errors-and-resume");
    await ctx.close();
  }
});
