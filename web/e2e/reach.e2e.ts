// The owner's side of reach in Debian's chromium against `kadr all`: subtitles sent through the
// captions manager (an SRT file listed, a broken one refused with its line named, the cue shown
// by the player at its time), who may embed the video (the embed page's frame-ancestors
// follows), downloads switched off and on, and pictures at any time (a still per chapter, the
// share dialog's picture at the shared time, a private video's signed like its poster).
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { api, ARTIFACTS, context, eventually, launch, newUser, openEditPage, picturesLoaded, putCaptions, shot, signIn, testClip, tusUpload, verify, waitVideo } from "./helpers";

const base = inject("base");
let browser: Browser;
let owner: { username: string; token: string };
/** 30 s of test pattern with three chapters (0:00, 0:10, 0:20), public, on the owner's channel. */
let video: string;

const SRT = "1\n00:00:02,000 --> 00:00:04,000\nПривет, мир\n";
// The second cue ends before it starts: its timing is line 6.
const BROKEN = "1\n00:00:01,000 --> 00:00:02,000\nРаз\n\n2\n00:00:06,000 --> 00:00:05,000\nДва\n";

beforeAll(async () => {
  browser = await launch();
  const admin = await signIn(base, "admin", inject("adminPassword"));
  owner = await newUser(base, "reach");
  // A trusted owner: subtitles do not send the video back to review.
  await verify(base, admin, owner.token);
  const clip = testClip(join(ARTIFACTS, "media"), 30);
  video = await tusUpload(base, owner.token, clip, { title: "Охват: субтитры и встраивание", description: "Части:\n0:00 Начало\n0:10 Середина\n0:20 Конец" });
  await waitVideo(base, owner.token, video, (v) => v.status === "ready" && v.moderation?.state !== "pending");
});
afterAll(async () => {
  await browser?.close();
});

/** The subtitles track showing and the text of its active cue ("" when none is active);
 * `null` while no track shows. */
function activeCue(page: Page): Promise<string | null> {
  return page.evaluate(() => {
    const track = [...document.querySelector("video")!.textTracks].find((tr) => tr.mode === "showing");
    if (!track) return null;
    const cue = track.activeCues?.[0] as VTTCue | undefined;
    return cue?.text ?? "";
  });
}

/** Pauses the page's video at `secs`. */
async function pauseAt(page: Page, secs: number): Promise<void> {
  await page.evaluate((s) => {
    const v = document.querySelector("video")!;
    v.pause();
    v.currentTime = s;
  }, secs);
  await page.waitForFunction((s) => {
    const v = document.querySelector("video")!;
    return !v.seeking && Math.abs(v.currentTime - s) < 0.3;
  }, secs);
}

test("captions manager: an SRT file is listed, a broken one is refused with its line named; the player shows the cue at its time", async () => {
  const ctx = await context(browser, base, owner.token);
  const page = await ctx.newPage();
  try {
    await openEditPage(page, video);
    expect(new URL(page.url()).pathname).toBe(`/me/videos/${video}`);
    await page.waitForSelector("[data-testid=captions-none]:not([hidden])");

    // Russian, from the list of languages in their own names, with an .srt file.
    const options = await page.$$eval("[data-testid=caption-lang] option", (els) => els.map((e) => (e as HTMLOptionElement).value));
    expect(options.slice(0, 3)).toEqual(["ru", "en", "ar"]);
    for (const tag of ["uk", "kk", "uz", "tt", "de", "fr", "es", "tr", "zh", "other"]) expect(options).toContain(tag);
    expect(await page.textContent("[data-testid=caption-lang] option[value=ru]")).toBe("Русский (ru)");
    await page.selectOption("[data-testid=caption-lang]", "ru");
    await page.setInputFiles("[data-testid=caption-file]", { name: "privet.srt", mimeType: "application/x-subrip", buffer: Buffer.from(SRT) });
    await page.click("[data-testid=caption-upload]");
    const row = page.locator("[data-testid=caption-row][data-lang=ru]");
    await row.waitFor();
    expect(await row.locator("[data-testid=caption-cues]").textContent()).toBe("1 cue");
    expect(await page.textContent("[data-testid=captions-message]")).toContain("saved");
    expect(await page.isHidden("[data-testid=captions-none]")).toBe(true);

    // A broken file: the server's words name the line.
    await page.selectOption("[data-testid=caption-lang]", "en");
    await page.setInputFiles("[data-testid=caption-file]", { name: "broken.srt", mimeType: "application/x-subrip", buffer: Buffer.from(BROKEN) });
    await page.click("[data-testid=caption-upload]");
    await page.waitForSelector("[data-testid=captions-message].error");
    const refused = await page.textContent("[data-testid=captions-message]");
    expect(refused).toContain("The file was not accepted");
    expect(refused).toContain("line 6");
    expect(await page.locator("[data-testid=caption-row]").count()).toBe(1);

    // Any other language by its tag; a made-up one is refused before it is sent.
    await page.selectOption("[data-testid=caption-lang]", "other");
    await page.fill("[data-testid=caption-tag]", "not a tag");
    await page.setInputFiles("[data-testid=caption-file]", { name: "x.vtt", mimeType: "text/vtt", buffer: Buffer.from("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nOlá\n") });
    await page.click("[data-testid=caption-upload]");
    expect(await page.getAttribute("[data-testid=caption-tag]", "aria-invalid")).toBe("true");
    await page.fill("[data-testid=caption-tag]", "pt-br");
    await page.click("[data-testid=caption-upload]");
    await page.waitForSelector("[data-testid=caption-row][data-lang=pt-BR]");
    // Replaced, then deleted.
    await page.setInputFiles("[data-testid=caption-row][data-lang=pt-BR] [data-testid=caption-replace-file]", {
      name: "y.vtt",
      mimeType: "text/vtt",
      buffer: Buffer.from("WEBVTT\n\n00:00:00.000 --> 00:00:01.000\nOlá\n\n00:00:01.000 --> 00:00:02.000\nMundo\n"),
    });
    await page.waitForFunction(() => document.querySelector("[data-testid=caption-row][data-lang=pt-BR] [data-testid=caption-cues]")?.textContent === "2 cues");
    page.once("dialog", (d) => void d.accept());
    await page.click("[data-testid=caption-row][data-lang=pt-BR] [data-testid=caption-delete]");
    await page.waitForSelector("[data-testid=caption-row][data-lang=pt-BR]", { state: "detached" });
    const listed = await api<{ items: { lang: string; cues: number }[] }>(base, "GET", `/api/v1/videos/${video}/captions`);
    expect(listed.items.map((c) => [c.lang, c.cues])).toEqual([["ru", 1]]);
    await shot(page, "reach-captions-manager");

    // The watch page: Russian in the player's menu, its cue from 2 s to 4 s.
    await page.click("[data-testid=edit-title]");
    await page.waitForSelector(".controls .captions-wrap:not([hidden])", { timeout: 30_000 });
    await page.click(".controls .ctl.captions");
    await page.click(".captions-menu .menu-item[data-lang=ru]");
    await pauseAt(page, 1);
    await eventually("the Russian track showing", async () => (await activeCue(page)) !== null);
    // Loaded around 1 s, nothing active there.
    await page.waitForTimeout(500);
    expect(await activeCue(page)).toBe("");
    await pauseAt(page, 3);
    await eventually("the cue at 3 s", async () => (await activeCue(page)) === "Привет, мир");
    // Shown by the browser over the picture (the track is "showing"); the picture proves it.
    await shot(page, "reach-captions-showing");
    // Playing past its end: gone.
    await page.evaluate(() => void document.querySelector("video")!.play());
    await page.waitForFunction(() => document.querySelector("video")!.currentTime > 4.3, undefined, { timeout: 20_000 });
    await pauseAt(page, 5);
    await eventually("no cue at 5 s", async () => (await activeCue(page)) === "");
  } finally {
    await ctx.close();
  }
});

test("sharing: embedding only on one site sets the embed's frame-ancestors, a bad origin is named; downloads off and on", async () => {
  const ctx = await context(browser, base, owner.token);
  const page = await ctx.newPage();
  const embedPolicy = async () => (await fetch(`${base}/embed/${video}`)).headers.get("content-security-policy") ?? "";
  const state = () => api<{ embed_origins: string[]; downloadable: boolean }>(base, "GET", `/api/v1/videos/${video}`, owner.token);
  try {
    await openEditPage(page, video);
    expect(await page.isChecked("[data-testid=embed-anywhere]")).toBe(true);
    expect(await page.isHidden("[data-testid=embed-origins]")).toBe(true);

    // An origin without its scheme: the server's words under the field.
    await page.check("[data-testid=embed-some]");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("embed-origins");
    await page.fill("[data-testid=embed-origins]", "news.example");
    await page.click("[data-testid=sharing-save]");
    await page.waitForSelector("[data-testid=embed-origins-error]:not([hidden])");
    expect(await page.textContent("[data-testid=embed-origins-error]")).toContain("https://news.example.org");
    expect(await page.getAttribute("[data-testid=embed-origins]", "aria-invalid")).toBe("true");
    expect((await state()).embed_origins).toEqual(["*"]);

    await page.fill("[data-testid=embed-origins]", "https://news.example");
    await page.click("[data-testid=sharing-save]");
    await page.waitForFunction(() => document.querySelector("[data-testid=sharing-message]")?.textContent === "Saved.");
    expect(await page.isHidden("[data-testid=embed-origins-error]")).toBe(true);
    expect((await state()).embed_origins).toEqual(["https://news.example"]);
    expect(await embedPolicy()).toContain("frame-ancestors https://news.example");
    await shot(page, "reach-sharing");

    // Nowhere, then anywhere again.
    await page.check("[data-testid=embed-nowhere]");
    await page.click("[data-testid=sharing-save]");
    await eventually("nowhere saved", async () => (await state()).embed_origins.length === 0);
    expect(await embedPolicy()).toContain("frame-ancestors 'none'");
    await page.check("[data-testid=embed-anywhere]");
    await page.click("[data-testid=sharing-save]");
    await eventually("anywhere saved", async () => JSON.stringify((await state()).embed_origins) === '["*"]');
    expect(await embedPolicy()).not.toContain("news.example");
    expect(await embedPolicy()).not.toContain("frame-ancestors 'none'");

    // Downloads: off, then on again; the page read again shows what was saved.
    const was = (await state()).downloadable;
    expect(await page.isChecked("[data-testid=downloadable]")).toBe(was);
    await page.setChecked("[data-testid=downloadable]", !was);
    await page.click("[data-testid=sharing-save]");
    await eventually("downloads switched", async () => (await state()).downloadable === !was);
    await openEditPage(page, video);
    expect(await page.isChecked("[data-testid=downloadable]")).toBe(!was);
    await page.setChecked("[data-testid=downloadable]", was);
    await page.click("[data-testid=sharing-save]");
    await eventually("downloads back", async () => (await state()).downloadable === was);
  } finally {
    await ctx.close();
  }
});

test("stills: a picture per chapter (160 wide), the share dialog's at the shared time; a private video's signed like its poster", async () => {
  const ctx = await context(browser, base, owner.token);
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${video}`);
    await page.waitForSelector(".controls .play");
    const stills = await page.$$eval("[data-testid=chapter-still]", (els) => els.map((e) => ({ src: e.getAttribute("src"), alt: e.getAttribute("alt"), loading: e.getAttribute("loading") })));
    expect(stills.map((s) => new URL(s.src!, "http://x").searchParams.get("t"))).toEqual(["0", "10", "20"]);
    expect(stills.every((s) => s.loading === "lazy" && s.src!.includes("w=160"))).toBe(true);
    // Inside the chapter's button, named by its time and title: the picture adds no words.
    expect(stills.map((s) => s.alt)).toEqual(["", "", ""]);
    await page.locator("[data-testid=chapters]").scrollIntoViewIfNeeded();
    await eventually("the chapters' pictures", () => picturesLoaded(page, "[data-testid=chapter-still]", 160));
    expect(await page.textContent("[data-testid=chapter-item] >> nth=1")).toBe("0:10Середина");
    await shot(page, "reach-chapter-stills");

    // The share dialog: the picture at the shared time while "start at" is ticked.
    await pauseAt(page, 12);
    await page.click("[data-testid=share]");
    await page.waitForSelector("[data-testid=share-dialog]");
    expect(await page.isHidden("[data-testid=share-still]")).toBe(true);
    await page.check("[data-testid=share-at]");
    await page.waitForSelector("[data-testid=share-still]:not([hidden])");
    await eventually("the shared time's picture", async () => (await page.getAttribute("[data-testid=share-still]", "src"))?.includes("t=12") ?? false);
    await eventually("the shared time's picture loaded", async () => page.$eval("[data-testid=share-still]", (i) => (i as HTMLImageElement).naturalWidth > 0));
    expect(await page.getAttribute("[data-testid=share-still]", "alt")).toBe("Picture at 0:12");
    await page.fill("[data-testid=share-start-time]", "0:25");
    await eventually("the picture follows the time", async () => (await page.getAttribute("[data-testid=share-still]", "src"))?.includes("t=25") ?? false);
    await page.uncheck("[data-testid=share-at]");
    expect(await page.isHidden("[data-testid=share-still]")).toBe(true);
    await page.keyboard.press("Escape");

    // Private: the pictures carry the poster's token (without it the server answers 404).
    await api(base, "PATCH", `/api/v1/videos/${video}`, owner.token, { privacy: "private" });
    try {
      await page.reload();
      await page.waitForSelector(".controls .play");
      const src = (await page.getAttribute("[data-testid=chapter-still] >> nth=0", "src"))!;
      expect(src).toContain("token=");
      await page.locator("[data-testid=chapters]").scrollIntoViewIfNeeded();
      await eventually("a private video's chapter pictures", () => picturesLoaded(page, "[data-testid=chapter-still]", 160));
      const bare = src.replace(/[?&]token=[^&]*/, "");
      expect((await fetch(base + bare)).status).toBe(404);
    } finally {
      await api(base, "PATCH", `/api/v1/videos/${video}`, owner.token, { privacy: "public" });
    }
  } finally {
    await ctx.close();
  }
});

test("right to left on a phone: the time reads current / total in an isolated LTR span, clear of the buttons", async () => {
  // Subtitles too, so that every button of the row is there.
  await putCaptions(base, owner.token, video, "ru", SRT, "application/x-subrip");
  const ctx = await context(browser, base, undefined, { width: 390, height: 844 });
  await ctx.addInitScript(() => localStorage.setItem("kadr.lang", "ar"));
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${video}`);
    await page.waitForSelector(".controls .captions-wrap:not([hidden])", { timeout: 30_000 });
    await pauseAt(page, 7);
    await page.waitForFunction(() => document.querySelector(".time-now")?.textContent === "0:07 / 0:30");
    const layout = await page.evaluate(() => {
      const now = document.querySelector<HTMLElement>(".time-now")!;
      const box = (el: Element) => el.getBoundingClientRect();
      const row = [...document.querySelectorAll<HTMLElement>(".controls-row > *")].filter((e) => e.getClientRects().length && getComputedStyle(e).visibility !== "hidden" && !e.classList.contains("controls-gap"));
      const overlaps: string[] = [];
      for (let i = 0; i < row.length; i++) {
        for (let j = i + 1; j < row.length; j++) {
          const [a, b] = [box(row[i]), box(row[j])];
          if (a.left < b.right - 0.5 && b.left < a.right - 0.5) overlaps.push(`${row[i].className} × ${row[j].className}`);
        }
      }
      // The text itself within its box (nothing spills out of a shrunk span).
      const spill = now.scrollWidth > now.clientWidth + 1;
      const range = document.createRange();
      range.selectNodeContents(now);
      const rects = [...range.getClientRects()];
      const player = box(document.querySelector(".player")!);
      return {
        dir: getComputedStyle(now).direction,
        bidi: getComputedStyle(now).unicodeBidi,
        overlaps,
        spill,
        inside: rects.every((r) => r.left >= player.left - 0.5 && r.right <= player.right + 0.5),
        currentFirst: (() => {
          // "0:07" is drawn left of "0:30", as in English.
          const text = now.firstChild!;
          const r1 = document.createRange();
          r1.setStart(text, 0);
          r1.setEnd(text, 4);
          const r2 = document.createRange();
          r2.setStart(text, 7);
          r2.setEnd(text, 11);
          return r1.getBoundingClientRect().left < r2.getBoundingClientRect().left;
        })(),
      };
    });
    expect(layout).toEqual({ dir: "ltr", bidi: "isolate", overlaps: [], spill: false, inside: true, currentFirst: true });
    await shot(page, "reach-rtl-phone-time");
    // The longest readout (an hour-long video) on the narrowest phone: still clear.
    await page.setViewportSize({ width: 375, height: 812 });
    await page.evaluate(() => {
      document.querySelector(".time-now")!.textContent = "1:02:03 / 1:02:03";
      const rung = document.querySelector(".quality-rung");
      if (rung) rung.textContent = " (1080p)";
    });
    const crowded = await page.evaluate(() => {
      const row = [...document.querySelectorAll<HTMLElement>(".controls-row > *")].filter((e) => e.getClientRects().length && !e.classList.contains("controls-gap"));
      const player = document.querySelector(".player")!.getBoundingClientRect();
      const out: string[] = [];
      row.forEach((a, i) => {
        const ra = a.getBoundingClientRect();
        if (ra.left < player.left - 0.5 || ra.right > player.right + 0.5) out.push(`${a.className} outside`);
        for (const b of row.slice(i + 1)) {
          const rb = b.getBoundingClientRect();
          if (ra.left < rb.right - 0.5 && rb.left < ra.right - 0.5) out.push(`${a.className} × ${b.className}`);
        }
      });
      const now = document.querySelector<HTMLElement>(".time-now")!;
      if (now.scrollWidth > now.clientWidth + 1) out.push("time spills");
      return out;
    });
    expect(crowded).toEqual([]);
    await shot(page, "reach-rtl-phone-time-long");
  } finally {
    await ctx.close();
  }
});
