// Downloads in Debian's chromium against `kadr all` (which makes the MP4 and the M4A by default,
// `transcode.mp4_download` and `transcode.audio_only`): the owner allows downloads on the
// video's details page, a viewer finds "Download" beside "Share", opens it with the keyboard,
// saves the MP4 and the M4A (attachments, `moov` before `mdat`), and loses the menu when the
// owner takes downloads back; the player's quality menu plays the sound alone where the viewer
// was, and the picture again.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import type { Download } from "../src/api";
import { formatBytes } from "../src/format";
import { api, ARTIFACTS, CLIP, context, launch, newUser, openEditPage, playsPast, shot, signIn, testClip, tusUpload, verify, waitVideo } from "./helpers";

const base = inject("base");
let browser: Browser;
let owner: { username: string; token: string };
let viewer: { username: string; token: string };
/** The real clip (720p, with sound), public, on the owner's channel. */
let video: string;

beforeAll(async () => {
  browser = await launch();
  const admin = await signIn(base, "admin", inject("adminPassword"));
  owner = await newUser(base, "dlowner");
  viewer = await newUser(base, "dlviewer");
  // A trusted owner: the video is listed without review.
  await verify(base, admin, owner.token);
  video = await tusUpload(base, owner.token, CLIP, { title: "Загрузки: кролик", description: "Blender Foundation, CC BY 3.0" });
  await waitVideo(base, owner.token, video, (v) => v.status === "ready" && v.moderation?.state !== "pending");
});
afterAll(async () => {
  await browser?.close();
});

/** The files the API lists for `token` (`null`: 404, none for this viewer). */
async function listed(token?: string): Promise<Download[] | null> {
  const res = await fetch(`${base}/api/v1/videos/${video}/downloads`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`downloads: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { items: Download[] }).items;
}

/** The owner sets "Viewers may download the video" on the video's details page and saves. */
async function ownerAllows(page: Page, on: boolean): Promise<void> {
  await openEditPage(page, video);
  await page.setChecked("[data-testid=downloadable]", on);
  await page.click("[data-testid=sharing-save]");
  await page.waitForFunction(() => document.querySelector("[data-testid=sharing-message]")?.textContent === "Saved.");
  expect((await api<{ downloadable: boolean }>(base, "GET", `/api/v1/videos/${video}`, owner.token)).downloadable).toBe(on);
}

/** The top-level boxes of an ISO BMFF file, in order (`size` 1: a 64-bit size follows; 0: to
 * the end). */
function topBoxes(bytes: Buffer): string[] {
  const types: string[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(at);
    types.push(bytes.toString("latin1", at + 4, at + 8));
    if (size === 1) size = Number(bytes.readBigUInt64BE(at + 8));
    else if (size === 0) size = bytes.length - at;
    if (size < 8) throw new Error(`box ${types.at(-1)} at ${at}: size ${size}`);
    at += size;
  }
  if (at !== bytes.length) throw new Error(`boxes end at ${at}, the file at ${bytes.length}`);
  return types;
}

/** `ftyp` first, then `moov` before `mdat`: the file plays while it downloads. */
function expectFaststart(bytes: Buffer): void {
  const boxes = topBoxes(bytes);
  expect(boxes[0]).toBe("ftyp");
  expect(boxes).toContain("moov");
  expect(boxes).toContain("mdat");
  expect(boxes.indexOf("moov")).toBeLessThan(boxes.indexOf("mdat"));
}

test("a viewer downloads the MP4 and the M4A from the watch page's menu; no menu once the owner takes downloads back", async () => {
  const ownerCtx = await context(browser, base, owner.token);
  const viewerCtx = await context(browser, base, viewer.token);
  const ownerPage = await ownerCtx.newPage();
  const page = await viewerCtx.newPage();
  try {
    // Not downloadable: the viewer has neither the files nor the menu.
    await ownerAllows(ownerPage, false);
    expect(await listed(viewer.token)).toBeNull();
    await page.goto(`/watch/${video}`);
    await page.waitForSelector("[data-testid=share]");
    await page.waitForSelector(".controls .play");
    expect(await page.locator("[data-testid=download]").count()).toBe(0);

    // The owner allows downloads: the viewer, on the page read again, has "Download".
    await ownerAllows(ownerPage, true);
    const files = await listed(viewer.token);
    expect(files?.map((f) => f.kind).sort()).toEqual(["m4a", "mp4"]);
    const mp4 = files!.find((f) => f.kind === "mp4")!;
    const m4a = files!.find((f) => f.kind === "m4a")!;
    await page.reload();
    const button = page.locator("[data-testid=download-button]");
    await button.waitFor();
    expect(await button.textContent()).toBe("Download");

    // By the keyboard: Enter opens it on the first file, the arrow goes to the next.
    await button.focus();
    await page.keyboard.press("Enter");
    await page.waitForSelector("[data-testid=download] [role=menu]", { state: "visible" });
    expect(await page.getAttribute("[data-testid=download] [role=menu]", "aria-label")).toBe("Download the video");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("download-mp4");
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("download-m4a");
    const items = await page.$$eval("[data-testid=download] a.menu-item", (els) =>
      els.map((a) => ({ text: a.textContent, href: a.getAttribute("href"), download: a.hasAttribute("download") })),
    );
    const short = Math.min(mp4.width!, mp4.height!);
    expect(items).toEqual([
      { text: `Video (MP4, ${short}p, ${formatBytes(mp4.size_bytes, "en")})`, href: mp4.url, download: true },
      { text: `Audio only (M4A, ${formatBytes(m4a.size_bytes, "en")})`, href: m4a.url, download: true },
    ]);
    await shot(page, "downloads-menu");
    // Escape closes it, focus back on its button.
    await page.keyboard.press("Escape");
    expect(await page.isHidden("[data-testid=download] [role=menu]")).toBe(true);
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("download-button");

    // Each link saves a file: the browser's download, named after the title, as the server
    // sent it (attachment), the picture's index before its data.
    for (const [kind, file, ext, type] of [
      ["mp4", mp4, ".mp4", "video/mp4"],
      ["m4a", m4a, ".m4a", "audio/mp4"],
    ] as const) {
      await button.click();
      const [saved] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=download-${kind}]`)]);
      // The title, Cyrillic kept (the colon, which no file name may hold, left out).
      expect(saved.suggestedFilename()).toMatch(new RegExp(`^Загрузки_? кролик\\${ext}$`));
      const path = join(ARTIFACTS, `download${ext}`);
      await saved.saveAs(path);
      const bytes = readFileSync(path);
      expect(bytes.length).toBe(file.size_bytes);
      expectFaststart(bytes);
      // The menu closed on the choice; the page stayed.
      expect(await page.isHidden("[data-testid=download] [role=menu]")).toBe(true);
      expect(new URL(page.url()).pathname).toBe(`/watch/${video}`);
      const res = await page.request.get(file.url);
      expect(res.status()).toBe(200);
      expect(res.headers()["content-disposition"]).toMatch(/^attachment;/);
      expect(res.headers()["content-type"]).toBe(type);
      expectFaststart(await res.body());
    }

    // The owner takes downloads back: the menu is gone for the viewer, and so are the files.
    await ownerAllows(ownerPage, false);
    await page.reload();
    await page.waitForSelector("[data-testid=share]");
    await page.waitForSelector(".controls .play");
    expect(await page.locator("[data-testid=download]").count()).toBe(0);
    expect(await listed(viewer.token)).toBeNull();
    expect(await listed()).toBeNull();
    expect((await page.request.get(mp4.url)).status()).toBe(404);
    // Its owner still has them.
    expect((await listed(owner.token))?.length).toBe(2);
  } finally {
    await ownerCtx.close();
    await viewerCtx.close();
  }
});

test("the download menu at desktop and phone sizes, left to right and right to left: wholly on screen, its sizes in the language's words", async () => {
  await api(base, "PATCH", `/api/v1/videos/${video}`, owner.token, { downloadable: true });
  const files = (await listed())!;
  const m4a = files.find((f) => f.kind === "m4a")!;
  const words = { en: `Audio only (M4A, ${formatBytes(m4a.size_bytes, "en")})`, ar: `الصوت فقط (M4A، ${formatBytes(m4a.size_bytes, "ar")})` };
  for (const viewport of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
    for (const lang of ["en", "ar"] as const) {
      const ctx = await context(browser, base, undefined, viewport);
      await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
      const page = await ctx.newPage();
      try {
        await page.goto(`/watch/${video}`);
        expect(await page.getAttribute("html", "dir")).toBe(lang === "ar" ? "rtl" : "ltr");
        await page.click("[data-testid=download-button]");
        const list = page.locator("[data-testid=download] [role=menu]");
        await list.waitFor();
        const text = (await page.textContent("[data-testid=download-m4a]"))!.replace(/[\u2066-\u2069]/g, "");
        expect(text).toBe(words[lang]);
        expect(await list.evaluate((el) => getComputedStyle(el).direction)).toBe(lang === "ar" ? "rtl" : "ltr");
        // Every file can be reached: the list is inside the page's width.
        const box = (await list.boundingBox())!;
        expect(box.x, `${lang} at ${viewport.width}`).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width, `${lang} at ${viewport.width}`).toBeLessThanOrEqual(viewport.width);
        await shot(page, `downloads-menu-${lang}-${viewport.width}`);
      } finally {
        await ctx.close();
      }
    }
  }
});

test("audio only: the quality menu plays the sound alone from where the viewer was, then the picture again", async () => {
  // 20 s of test pattern with a tone: long enough to switch twice while it plays.
  const clip = testClip(join(ARTIFACTS, "media"), 20);
  const id = await tusUpload(base, owner.token, clip, { title: "Только звук" });
  await waitVideo(base, owner.token, id, (v) => v.status === "ready" && v.moderation?.state !== "pending");
  const ctx = await context(browser, base, viewer.token);
  const page = await ctx.newPage();
  const requests: string[] = [];
  page.on("request", (r) => requests.push(new URL(r.url()).pathname));
  const state = () =>
    page.evaluate(() => {
      const v = document.querySelector("video")!;
      return { time: v.currentTime, width: v.videoWidth, paused: v.paused, quality: document.querySelector(".controls .quality")!.textContent };
    });
  try {
    await page.goto(`/watch/${id}`);
    await playsPast(page, 2);

    // The menu offers it last; choosing it keeps the place and goes on without a picture.
    await page.click(".controls .quality");
    const options = await page.$$eval(".quality-menu [role=menuitemradio]", (els) => els.map((e) => e.textContent));
    expect(options.at(-1)).toBe("Audio only");
    const before = (await state()).time;
    requests.length = 0;
    await page.click(".quality-menu [data-level='-2']");
    await page.waitForFunction(() => document.querySelector(".controls .quality")?.textContent === "Audio only");
    await page.waitForFunction((t) => {
      const v = document.querySelector("video")!;
      return v.videoWidth === 0 && !v.paused && v.currentTime > t + 1.5;
    }, before, { timeout: 30_000 });
    const sound = await state();
    expect(sound.width).toBe(0);
    // What plays is named over the still picture (the element's last frame would not move).
    expect(await page.isVisible("[data-testid=player-audio]")).toBe(true);
    expect(await page.textContent("[data-testid=player-audio]")).toBe("Audio only");
    // From where it was, not from the start (the time only went on).
    expect(sound.time).toBeGreaterThan(before);
    expect(requests.some((p) => p.includes(`/media/${id}/hls/audio/`))).toBe(true);
    expect(requests.filter((p) => /\/hls\/\d+p\//.test(p))).toEqual([]);
    await page.click(".controls .quality");
    expect(await page.getAttribute(".quality-menu [data-level='-2']", "aria-checked")).toBe("true");
    await shot(page, "downloads-audio-only");

    // Automatic again: the picture comes back where the sound was.
    const mid = (await state()).time;
    await page.click(".quality-menu [data-level='-1']");
    await page.waitForFunction((t) => {
      const v = document.querySelector("video")!;
      return v.videoWidth > 0 && !v.paused && v.currentTime > t + 1;
    }, mid, { timeout: 30_000 });
    expect((await state()).quality).toMatch(/^Auto/);
    expect(await page.isHidden("[data-testid=player-audio]")).toBe(true);
  } finally {
    await ctx.close();
  }
});
