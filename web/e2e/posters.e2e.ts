// Posters, hover previews and languages kept on the account, in Debian's chromium against
// `kadr all`: the owner picks one of the four frames by the keyboard on the video's details
// page (the watch page and the home page's card then show it), sends a picture of their own
// (processing, then shown; from an owner who is not trusted the video goes back to review),
// a text file named .png is refused in the server's words, and "Use automatic" goes back;
// a card plays its silent preview under a resting pointer or the keyboard's focus, and not for
// a viewer who asked for less motion; the interface's language chosen in settings comes back
// when the same account signs in on a fresh browser.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import type { Poster } from "../src/api";
import { api, ARTIFACTS, axeSerious, CLIP, context, eventually, launch, listedVideo, newUser, openEditPage, picture, shot, signIn, testClip, tusUpload, verify, waitVideo } from "./helpers";

const base = inject("base");
let browser: Browser;
let admin: string;
let owner: { username: string; token: string };
/** The real clip (720p), public and listed, on a trusted owner's channel. */
let video: string;
const TITLE = "Обложка: кролик выбирает кадр";

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
  owner = await newUser(base, "poster");
  // A trusted owner: a picture of their own does not send the video back to review.
  await verify(base, admin, owner.token);
  video = await tusUpload(base, owner.token, CLIP, { title: TITLE, description: "Blender Foundation, CC BY 3.0" });
  await waitVideo(base, owner.token, video, (v) => v.status === "ready" && v.moderation?.state !== "pending");
});
afterAll(async () => {
  await browser?.close();
});

const poster = (id = video, token = owner.token) => api<Poster>(base, "GET", `/api/v1/videos/${id}/poster`, token);
const path = (url: string | null) => (url ? new URL(url, base).pathname : "");

/** The poster the watch page's player shows before playing. */
async function watchPoster(page: Page, id: string): Promise<string> {
  await page.goto(`/watch/${id}`);
  await page.waitForSelector(".controls .play");
  await page.waitForFunction(() => !!document.querySelector("video")?.getAttribute("poster"));
  return path(await page.getAttribute("video", "poster"));
}

/** The picture of the video's card on the home page. */
async function cardPicture(page: Page, id: string): Promise<string> {
  await page.goto("/");
  const img = page.locator(`[data-testid=video-card][data-video-id="${id}"] .thumb img`);
  await img.waitFor({ state: "attached" });
  return path(await img.getAttribute("src"));
}

/** Every text the poster manager's status line shows, in order (kept by the page itself, so
 * that a short-lived "processing" is not missed). */
async function recordMessages(page: Page): Promise<() => Promise<string[]>> {
  await page.evaluate(() => {
    const el = document.querySelector("[data-testid=poster-message]")!;
    const seen: string[] = [];
    (window as unknown as { posterSeen: string[] }).posterSeen = seen;
    new MutationObserver(() => seen.push(el.textContent ?? "")).observe(el, { childList: true, subtree: true, characterData: true });
  });
  return () => page.evaluate(() => (window as unknown as { posterSeen: string[] }).posterSeen);
}

const message = (page: Page) => page.textContent("[data-testid=poster-message]");
const waitMessage = (page: Page, text: string, timeout = 60_000) =>
  page.waitForFunction((t) => document.querySelector("[data-testid=poster-message]")?.textContent?.includes(t), text, { timeout });

/** Opens the details page and waits for the poster manager's frames. */
async function openPicker(page: Page, id: string, frames = 4): Promise<void> {
  await openEditPage(page, id);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=poster-frame]").length === n, frames);
}

test("the owner picks frame 3 of 4 by the keyboard, sends a picture of their own, is told why a text file is refused, and goes back to automatic", async () => {
  const ctx = await context(browser, base, owner.token);
  const page = await ctx.newPage();
  const sent: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("/poster")) sent.push(`${r.method()} ${new URL(r.url()).pathname}`);
  });
  try {
    const before = await poster();
    expect(before.source).toBe("auto");
    expect(before.frames.length).toBe(4);
    await openPicker(page, video);
    // Four frames, named by their place; none chosen while the transcoder's pick is shown.
    const alts = await page.$$eval("[data-testid=poster-frames] img", (imgs) => imgs.map((i) => i.getAttribute("alt")));
    expect(alts).toEqual(["Frame 1 of 4", "Frame 2 of 4", "Frame 3 of 4", "Frame 4 of 4"]);
    expect(await page.getAttribute("[data-testid=poster-frames]", "role")).toBe("radiogroup");
    expect(await page.textContent("[data-testid=poster-frames] legend")).toBe("Frames of the video");
    expect(await page.$$eval("[data-testid=poster-frame]", (els) => els.filter((e) => (e as HTMLInputElement).checked).length)).toBe(0);
    expect(await page.textContent("[data-testid=poster-source]")).toBe("Chosen automatically");
    expect(path(await page.getAttribute("[data-testid=poster-current]", "src"))).toBe(path(before.small_url ?? null));
    expect(await page.isDisabled("[data-testid=poster-auto]")).toBe(true);
    await eventually("the frames' pictures", () =>
      page.$$eval("[data-testid=poster-frames] img", (imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === 320)),
    );

    // The keyboard: Tab from the video's title reaches the group (its first frame, none being
    // chosen), the focus drawn around the picture; the arrow keys move and choose.
    await page.focus("[data-testid=edit-title]");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-index"))).toBe(String(before.frames[0].index));
    const ring = await page.evaluate(() => getComputedStyle(document.activeElement!.closest("label")!).outlineStyle);
    expect(ring).toBe("solid");
    await page.keyboard.press("ArrowRight");
    await page.keyboard.press("ArrowRight");
    const third = before.frames[2];
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-index"))).toBe(String(third.index));
    await waitMessage(page, "Frame 3 of 4 is now the thumbnail.", 15_000);
    expect(await page.isChecked(`[data-testid=poster-frame][data-index="${third.index}"]`)).toBe(true);
    expect(await page.textContent("[data-testid=poster-source]")).toBe("Frame 3 of 4");
    const chosen = await poster();
    expect([chosen.source, chosen.frame]).toEqual(["frame", third.index]);
    expect(path(chosen.url ?? null)).toBe(path(third.url));
    // The server numbers its frames from 0: the third is frame_2.
    expect(path(third.url)).toMatch(/\/frame_2\.jpg$/);
    expect(await page.isDisabled("[data-testid=poster-auto]")).toBe(false);
    await shot(page, "posters-frame-chosen");

    // Viewers see it: the player's poster and the home page's card.
    expect(await watchPoster(page, video)).toMatch(/\/frame_2\.jpg$/);
    expect(await cardPicture(page, video)).toMatch(/\/frame_2_small\.jpg$/);

    // A picture of its own (a PNG made here): "processing…", then shown.
    const png = picture(join(ARTIFACTS, "media"), "cover.png", 640, 360);
    await openPicker(page, video);
    const seen = await recordMessages(page);
    await page.setInputFiles("[data-testid=poster-file]", png);
    await waitMessage(page, "Your picture is now the thumbnail.");
    expect(await seen()).toContain("Processing the picture…");
    expect(await message(page)).not.toContain("moderation");
    const custom = await poster();
    expect(custom.source).toBe("custom");
    expect(custom.pending).toBe(false);
    expect(path(await page.getAttribute("[data-testid=poster-current]", "src"))).toContain("/custom_");
    expect(await page.textContent("[data-testid=poster-source]")).toBe("Your picture");
    expect(await page.$$eval("[data-testid=poster-frame]", (els) => els.filter((e) => (e as HTMLInputElement).checked).length)).toBe(0);
    // The picture beside the title follows.
    expect(path(await page.getAttribute(".edit-video .thumb img", "src"))).toContain("/custom_");
    await page.waitForFunction(() => (document.querySelector("[data-testid=poster-current]") as HTMLImageElement).naturalWidth === 320);
    await shot(page, "posters-custom");
    expect(await cardPicture(page, video)).toContain("/custom_");
    expect(await watchPoster(page, video)).toContain("/custom_");

    // A text file named .png: the server's own words (its problem's title), nothing changed.
    await openPicker(page, video);
    const words = Buffer.from("These are words, not a picture.\n");
    const problem = (await (
      await fetch(`${base}/api/v1/videos/${video}/poster/image`, {
        method: "PUT",
        headers: { authorization: `Bearer ${owner.token}`, "content-type": "image/png", "accept-language": "en" },
        body: words,
      })
    ).json()) as { title: string; code: string };
    expect(problem.code).toBe("not_an_image");
    await page.setInputFiles("[data-testid=poster-file]", { name: "notes.png", mimeType: "image/png", buffer: words });
    await page.waitForSelector("[data-testid=poster-message].error");
    expect(await message(page)).toContain(problem.title);
    expect((await poster()).source).toBe("custom");

    // Over 10 MiB: refused here, before a byte is sent.
    sent.length = 0;
    await page.setInputFiles("[data-testid=poster-file]", { name: "huge.png", mimeType: "image/png", buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
    await waitMessage(page, "The picture is too large: 10 MiB at most.", 5_000);
    expect(sent.filter((s) => s.startsWith("PUT"))).toEqual([]);

    // Leaving while a picture is made stops the asking.
    const second = picture(join(ARTIFACTS, "media"), "cover2.png", 800, 450);
    await page.setInputFiles("[data-testid=poster-file]", second);
    await waitMessage(page, "Processing the picture…", 15_000);
    await page.click(".edit-back");
    await page.waitForSelector("[data-testid=mine-row]");
    sent.length = 0;
    await page.waitForTimeout(2_500);
    expect(sent).toEqual([]);
    await eventually("the second picture made", async () => !(await poster()).pending);

    // Back to automatic: the transcoder's pick again, for viewers too.
    await openPicker(page, video);
    await page.click("[data-testid=poster-auto]");
    await waitMessage(page, "The thumbnail is chosen automatically again.", 15_000);
    const reset = await poster();
    expect(reset.source).toBe("auto");
    expect(path(await page.getAttribute("[data-testid=poster-current]", "src"))).toBe(path(reset.small_url ?? null));
    expect(await page.textContent("[data-testid=poster-source]")).toBe("Chosen automatically");
    expect(await page.isDisabled("[data-testid=poster-auto]")).toBe(true);
    expect(await cardPicture(page, video)).toBe(path(reset.small_url ?? null));
  } finally {
    await ctx.close();
  }
});

test("a picture from an owner who is not trusted: the owner is told the video went back to review", async () => {
  const maker = await newUser(base, "postnew");
  const id = await listedVideo(base, admin, maker.token, testClip(join(ARTIFACTS, "media"), 4), { title: "Новая обложка на проверку" });
  expect((await api<{ moderation?: { state: string } }>(base, "GET", `/api/v1/videos/${id}`, maker.token)).moderation?.state).toBe("approved");
  const ctx = await context(browser, base, maker.token);
  const page = await ctx.newPage();
  try {
    await openPicker(page, id);
    await page.setInputFiles("[data-testid=poster-file]", picture(join(ARTIFACTS, "media"), "cover-new.png", 640, 360));
    await waitMessage(page, "Your picture is now the thumbnail.");
    expect(await message(page)).toContain("The video went back to moderation");
    expect((await api<{ moderation?: { state: string } }>(base, "GET", `/api/v1/videos/${id}`, maker.token)).moderation?.state).toBe("pending");
    // A frame is a moment of the video, reviewed with it: no such words (a click on its picture).
    await page.click("[data-testid=poster-frames] img >> nth=0");
    await waitMessage(page, "Frame 1 of 4 is now the thumbnail.", 15_000);
    expect(await message(page)).not.toContain("moderation");
  } finally {
    await ctx.close();
  }
});

test("axe finds nothing serious on the details page with the poster picker, in English and Arabic", async () => {
  for (const lang of ["en", "ar"] as const) {
    const ctx = await context(browser, base, owner.token);
    await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
    const page = await ctx.newPage();
    try {
      await openPicker(page, video);
      await page.waitForLoadState("networkidle");
      expect(await page.getAttribute("html", "dir")).toBe(lang === "ar" ? "rtl" : "ltr");
      const findings = await axeSerious(page);
      expect(findings, lang).toEqual([]);
      if (lang === "ar") {
        // Right to left: the first frame at the right, the next to its left; the arrow
        // that points the way of the writing (left) moves on to it.
        const xs = await page.$$eval("[data-testid=poster-frames] label", (els) => els.map((e) => e.getBoundingClientRect().left));
        expect(xs[0]).toBeGreaterThan(xs[1]);
        expect(await page.getAttribute("[data-testid=poster-frames] img >> nth=1", "alt")).toBe("اللقطة 2 من 4");
        const frames = (await poster()).frames;
        await page.focus("[data-testid=edit-title]");
        await page.keyboard.press("Tab");
        await page.keyboard.press("ArrowLeft");
        expect(await page.evaluate(() => document.activeElement?.getAttribute("data-index"))).toBe(String(frames[1].index));
        await waitMessage(page, "أصبحت اللقطة 2 من 4 هي الصورة المصغّرة.", 15_000);
        await shot(page, "posters-ar");
        await api(base, "DELETE", `/api/v1/videos/${video}/poster`, owner.token);
      }
    } finally {
      await ctx.close();
    }
  }
});

test("a card plays its silent preview under a resting pointer or the keyboard, in the poster's box, and stops when left; none for less motion", async () => {
  const v = await api<{ images?: { preview?: string | null } }>(base, "GET", `/api/v1/videos/${video}`);
  expect(path(v.images?.preview ?? null)).toMatch(/\/preview\.mp4$/);
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  const previews: string[] = [];
  page.on("request", (r) => {
    if (r.url().includes("preview.mp4")) previews.push(r.url());
  });
  const card = `[data-testid=video-card][data-video-id="${video}"]`;
  try {
    await page.goto("/");
    await page.locator(card).scrollIntoViewIfNeeded();
    // Nothing made nor fetched before it is wanted.
    expect(await page.locator(`${card} video`).count()).toBe(0);
    expect(previews).toEqual([]);
    const thumb = (await page.locator(`${card} .thumb`).boundingBox())!;
    const cardBox = (await page.locator(card).boundingBox())!;

    await page.hover(`${card} .thumb`);
    const preview = page.locator(`${card} video`);
    await preview.waitFor({ state: "attached", timeout: 5_000 });
    expect(path(await preview.getAttribute("src"))).toMatch(/\/preview\.mp4$/);
    await page.waitForFunction((sel) => {
      const el = document.querySelector<HTMLVideoElement>(sel);
      return !!el && !el.paused && el.currentTime > 0.3 && el.videoWidth > 0;
    }, `${card} video`, { timeout: 20_000 });
    const a = await preview.evaluate((el: HTMLVideoElement) => ({ time: el.currentTime, muted: el.muted, loop: el.loop }));
    expect(a.muted).toBe(true);
    expect(a.loop).toBe(true);
    await page.waitForTimeout(600);
    expect(await preview.evaluate((el: HTMLVideoElement) => el.currentTime)).not.toBe(a.time);
    // Shown over the poster, in its box: nothing moved.
    expect(await page.locator(`${card} .thumb`).evaluate((el) => el.classList.contains("previewing"))).toBe(true);
    expect(await preview.boundingBox()).toEqual(thumb);
    expect(await page.locator(card).boundingBox()).toEqual(cardBox);
    await shot(page, "posters-hover-preview");

    // Left: gone, the poster back.
    await page.mouse.move(1, 1);
    await preview.waitFor({ state: "detached", timeout: 5_000 });
    expect(await page.locator(`${card} .thumb`).evaluate((el) => el.classList.contains("previewing"))).toBe(false);

    // The keyboard's focus on the card's title plays it too; leaving the card stops it.
    await page.focus(`${card} .card-title`);
    await preview.waitFor({ state: "attached", timeout: 5_000 });
    await page.focus(`${card} .card-channel`);
    await page.waitForTimeout(500);
    expect(await preview.count()).toBe(1);
    await page.focus("[data-testid=search]");
    await preview.waitFor({ state: "detached", timeout: 5_000 });
  } finally {
    await ctx.close();
  }

  // Less motion asked for: the pointer rests and nothing plays, nothing is fetched.
  for (const options of [{ reducedMotion: "reduce" as const }, { hasTouch: true, isMobile: true }]) {
    const quiet = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 }, locale: "en-US", ...options });
    const p = await quiet.newPage();
    const fetched: string[] = [];
    p.on("request", (r) => {
      if (r.url().includes("preview.mp4")) fetched.push(r.url());
    });
    try {
      await p.goto("/");
      await p.locator(card).scrollIntoViewIfNeeded();
      await p.hover(`${card} .thumb`);
      await p.focus(`${card} .card-title`);
      await p.waitForTimeout(1_500);
      expect(await p.locator(`${card} video`).count(), JSON.stringify(options)).toBe(0);
      expect(fetched, JSON.stringify(options)).toEqual([]);
    } finally {
      await quiet.close();
    }
  }
});

test("languages kept on the account: Arabic chosen in settings comes back on a fresh browser after signing in, with the language of my videos", async () => {
  const password = "correct horse battery";
  const user = await newUser(base, "lugha");
  const ctx = await context(browser, base, user.token);
  const page = await ctx.newPage();
  try {
    await page.goto("/settings");
    await page.waitForSelector("[data-testid=settings-lang]");
    expect(await page.inputValue("[data-testid=settings-lang]")).toBe("");
    expect(await page.textContent("[data-testid=settings-lang] option[value='']")).toBe("Follow the browser");
    // The language of my videos first (the page stays in English), then Arabic.
    await page.selectOption("[data-testid=settings-video-lang]", "ru");
    await page.waitForFunction(() => document.querySelector("[data-testid=language-message]")?.textContent === "Saved.");
    await page.selectOption("[data-testid=settings-lang]", "ar");
    await page.waitForFunction(() => document.documentElement.dir === "rtl");
    expect(await page.getAttribute("html", "lang")).toBe("ar");
    expect(await page.textContent("h1.page-title")).toBe("الإعدادات");
    expect(await page.inputValue("[data-testid=settings-lang]")).toBe("ar");
    const me = await api<{ ui_language: string | null; video_language: string | null }>(base, "GET", "/api/v1/me", user.token);
    expect([me.ui_language, me.video_language]).toEqual(["ar", "ru"]);
  } finally {
    await ctx.close();
  }

  // A fresh browser (nothing in its storage, an English one): English until the account
  // signs in, Arabic at once after, and still after a reload.
  const fresh = await context(browser, base);
  const second = await fresh.newPage();
  try {
    await second.goto("/login?next=/upload");
    expect(await second.getAttribute("html", "dir")).toBe("ltr");
    await second.fill("input[name=username]", user.username);
    await second.fill("input[name=password]", password);
    await second.click("form.auth-form button[type=submit]");
    await second.waitForURL("**/upload");
    await second.waitForFunction(() => document.documentElement.dir === "rtl" && document.documentElement.lang === "ar");
    // The upload form starts with the account's language of my videos.
    await second.waitForSelector("[data-testid=language]");
    expect(await second.inputValue("[data-testid=language]")).toBe("ru");
    expect(await second.evaluate(() => localStorage.getItem("kadr.lang"))).toBe("ar");
    await second.reload();
    await second.waitForSelector("[data-testid=language]");
    expect(await second.getAttribute("html", "dir")).toBe("rtl");
    await shot(second, "posters-language-back");

    // "Follow the browser": saved as none, the English browser's language back.
    await second.goto("/settings");
    await second.waitForSelector("[data-testid=settings-lang]");
    expect(await second.inputValue("[data-testid=settings-lang]")).toBe("ar");
    await second.selectOption("[data-testid=settings-lang]", "");
    await second.waitForFunction(() => document.documentElement.dir === "ltr" && document.documentElement.lang === "en");
    const me = await api<{ ui_language: string | null }>(base, "GET", "/api/v1/me", user.token);
    expect(me.ui_language).toBeNull();
    expect(await second.evaluate(() => localStorage.getItem("kadr.lang"))).toBeNull();
  } finally {
    await fresh.close();
  }
});
