// The Arabic interface in Debian's chromium, as a reader of Arabic sees it: the page turns
// right to left at once when the language is switched (and on a first visit from an Arabic
// browser), the layout is mirrored (logo at the right, navigation from the right, cards
// aligned right, icons that point a way turned), but the video and the seek bar are not (time
// runs left to right); dates are in Arabic; Russian and English still read left to right.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { api, CLIP, context, launch, newUser, playsPast, shot, signIn, tusUpload, waitVideo } from "./helpers";

const base = inject("base");
let browser: Browser;
let admin: string;
let video: string;
const TITLE = "الأرنب الكبير في الغابة";

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
  video = await tusUpload(base, admin, CLIP, { title: TITLE, description: "Blender Foundation, CC BY 3.0" });
  await waitVideo(base, admin, video, (v) => v.status === "ready");
});
afterAll(async () => {
  await browser?.close();
});

type Box = { left: number; right: number; top: number; width: number };

async function box(page: Page, selector: string): Promise<Box> {
  const b = await page.locator(selector).first().evaluate((el) => {
    const r = el.getBoundingClientRect();
    return { left: r.left, right: r.right, top: r.top, width: r.width };
  });
  return b;
}

/** The page's language and direction, as <html> says them. */
const htmlLang = (page: Page) => page.evaluate(() => ({ lang: document.documentElement.lang, dir: document.documentElement.dir }));

/** Where the header's parts and the first card are. */
async function layout(page: Page) {
  const card = `[data-testid=video-card][data-video-id="${video}"]`;
  return {
    width: await page.evaluate(() => document.documentElement.clientWidth),
    logo: await box(page, "#top a.logo"),
    search: await box(page, "#top form.search-form"),
    home: await box(page, "#top nav.nav a[href='/']"),
    shorts: await box(page, "#top nav.nav a[href='/shorts']"),
    card: await box(page, card),
    title: await box(page, `${card} .card-title bdi`),
    thumb: await box(page, `${card} .thumb`),
    badge: await box(page, `${card} .badge`),
  };
}

test("switching to Arabic turns the whole page right to left at once", async () => {
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  try {
    await page.goto("/");
    await page.waitForSelector(`[data-testid=video-card][data-video-id="${video}"] img`);
    expect(await htmlLang(page)).toEqual({ lang: "en", dir: "ltr" });
    const en = await layout(page);
    // English: logo at the left, the search box right of it, Home before Shorts.
    expect(en.logo.left).toBeLessThan(40);
    expect(en.search.left).toBeGreaterThan(en.logo.right);
    expect(en.home.left).toBeLessThan(en.shorts.left);
    expect(en.badge.right).toBeGreaterThan(en.thumb.right - 20);

    // The switch offers each language in its own name.
    const options = await page.$$eval("[data-testid=lang] option", (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]));
    expect(options).toEqual([["en", "English"], ["ru", "Русский"], ["ar", "العربية"]]);
    await page.selectOption("[data-testid=lang]", "ar");
    // At once, no reload.
    await page.waitForFunction(() => document.documentElement.dir === "rtl");
    expect(await htmlLang(page)).toEqual({ lang: "ar", dir: "rtl" });
    await page.waitForSelector("#top nav.nav a[href='/']:has-text('الصفحة الرئيسية')");
    await page.waitForSelector(`[data-testid=video-card][data-video-id="${video}"] img`);
    const ar = await layout(page);
    // The logo at the right edge, the search box left of it.
    expect(ar.width - ar.logo.right).toBeLessThan(40);
    expect(ar.search.right).toBeLessThan(ar.logo.left);
    // The navigation reads from the right: Home right of Shorts.
    expect(ar.home.left).toBeGreaterThan(ar.shorts.right);
    // A card's title is aligned right: its right edge on the card's.
    expect(Math.abs(ar.title.right - ar.card.right)).toBeLessThan(2);
    expect(await page.locator(`[data-video-id="${video}"] .card-title`).evaluate((el) => getComputedStyle(el).direction)).toBe("rtl");
    // The duration sits at the poster's bottom left.
    expect(ar.badge.left).toBeLessThan(ar.thumb.left + 20);
    // The newest video (ours) is the first card: at the right of the grid.
    expect(ar.card.right).toBeGreaterThan(ar.width - 40);
    // Its age is in Arabic words, with Western digits.
    const age = await page.locator(`[data-video-id="${video}"] .card-stats time`).textContent();
    expect(age).toMatch(/[\u0600-\u06ff]/);
    expect(age).not.toMatch(/[\u0660-\u0669]/);
    await shot(page, "rtl-home");
    // Kept for the next visit.
    await page.reload();
    await page.waitForSelector("[data-testid=video-card]");
    expect(await htmlLang(page)).toEqual({ lang: "ar", dir: "rtl" });
  } finally {
    await ctx.close();
  }
});

test("on a phone too: the logo at the right, the bell and the account at the left", async () => {
  const viewer = await newUser(base, "hatif");
  const ctx = await context(browser, base, viewer.token, { width: 375, height: 812 });
  await ctx.addInitScript(() => localStorage.setItem("kadr.lang", "ar"));
  const page = await ctx.newPage();
  try {
    await page.goto("/");
    await page.waitForSelector("[data-testid=video-card]");
    const logo = await box(page, "#top a.logo");
    const bell = await box(page, "[data-testid=bell]");
    const account = await box(page, "[data-testid=account-menu]");
    expect(375 - logo.right).toBeLessThan(20);
    expect(account.left).toBeLessThan(20);
    expect(bell.left).toBeGreaterThan(account.right);
    expect(bell.right).toBeLessThan(logo.left);
    // One column of cards, each aligned right.
    const card = await box(page, `[data-testid=video-card][data-video-id="${video}"]`);
    const title = await box(page, `[data-video-id="${video}"] .card-title bdi`);
    expect(Math.abs(title.right - card.right)).toBeLessThan(2);
    await shot(page, "rtl-phone");
  } finally {
    await ctx.close();
  }
});

test("a browser in Arabic (ar-EG) gets the Arabic interface on its first visit", async () => {
  const ctx = await browser.newContext({ baseURL: base, viewport: { width: 1280, height: 800 }, locale: "ar-EG" });
  const page = await ctx.newPage();
  try {
    await page.goto("/");
    await page.waitForSelector("[data-testid=video-card]");
    expect(await page.evaluate(() => localStorage.getItem("kadr.lang"))).toBeNull();
    expect(await htmlLang(page)).toEqual({ lang: "ar", dir: "rtl" });
    expect(await page.inputValue("[data-testid=lang]")).toBe("ar");
    expect(await page.textContent("#top nav.nav a[href='/']")).toBe("الصفحة الرئيسية");
    expect(await page.getAttribute("[data-testid=search]", "placeholder")).toBe("بحث");
  } finally {
    await ctx.close();
  }
});

test("the video and its seek bar are not mirrored; icons that point a way are", async () => {
  const viewer = await newUser(base, "rtl");
  const ctx = await context(browser, base, viewer.token);
  await ctx.addInitScript(() => localStorage.setItem("kadr.lang", "ar"));
  const page = await ctx.newPage();
  try {
    await page.goto(`/watch/${video}`);
    await page.waitForSelector("[data-testid=player] video");
    expect(await htmlLang(page)).toEqual({ lang: "ar", dir: "rtl" });
    expect(await page.textContent("[data-testid=watch-title]")).toBe(TITLE);
    await page.click("[data-testid=player] .play");
    await playsPast(page, 2);
    await page.evaluate(() => document.querySelector("video")!.pause());
    // The picture as it is: not flipped, the width of the player.
    const picture = await page.evaluate(() => {
      const v = document.querySelector("video")!;
      const p = v.closest("[data-testid=player]")!.getBoundingClientRect();
      const r = v.getBoundingClientRect();
      return { transform: getComputedStyle(v).transform, left: r.left - p.left, right: p.right - r.right };
    });
    expect(picture.transform).toBe("none");
    expect(Math.abs(picture.left)).toBeLessThan(1);
    expect(Math.abs(picture.right)).toBeLessThan(1);
    // What has played fills the seek bar from its left, about 2 of 5.3 seconds of it.
    const bar = await page.evaluate(() => {
      const track = document.querySelector(".seek-track")!.getBoundingClientRect();
      const played = document.querySelector(".seek-played")!.getBoundingClientRect();
      return { track: { left: track.left, width: track.width }, played: { left: played.left, width: played.width } };
    });
    expect(Math.abs(bar.played.left - bar.track.left)).toBeLessThan(1);
    expect(bar.played.width).toBeGreaterThan(bar.track.width * 0.25);
    expect(bar.played.width).toBeLessThan(bar.track.width * 0.9);
    // Play is a media icon: never turned. "Save" (a list with a plus) follows the writing.
    const flip = (sel: string) => page.locator(sel).first().evaluate((el) => getComputedStyle(el).transform);
    expect(await flip("[data-testid=player] .play svg")).toBe("none");
    expect(await flip("[data-testid=save] svg")).toBe("matrix(-1, 0, 0, 1, 0, 0)");
    await shot(page, "rtl-watch");
  } finally {
    await ctx.close();
  }
});

test("Russian and English still read left to right", async () => {
  const ctx = await context(browser, base);
  await ctx.addInitScript(() => localStorage.setItem("kadr.lang", "ar"));
  const page = await ctx.newPage();
  try {
    await page.goto("/");
    await page.waitForSelector("[data-testid=video-card]");
    expect((await htmlLang(page)).dir).toBe("rtl");
    await page.selectOption("[data-testid=lang]", "ru");
    await page.waitForFunction(() => document.documentElement.dir === "ltr");
    expect(await htmlLang(page)).toEqual({ lang: "ru", dir: "ltr" });
    await page.waitForSelector("#top nav.nav a[href='/']:has-text('Главная')");
    const age = page.locator(`[data-video-id="${video}"] .card-stats time`);
    expect(await age.textContent()).toMatch(/назад|только что|сейчас/);
    const ru = await layout(page);
    expect(ru.logo.left).toBeLessThan(40);
    expect(ru.home.left).toBeLessThan(ru.shorts.left);
    expect(Math.abs(ru.title.left - ru.card.left)).toBeLessThan(2);
    await page.selectOption("[data-testid=lang]", "en");
    await page.waitForSelector("#top nav.nav a[href='/']:has-text('Home')");
    expect(await htmlLang(page)).toEqual({ lang: "en", dir: "ltr" });
    expect(await age.textContent()).toMatch(/ago|now/);
  } finally {
    await ctx.close();
  }
});

test("settings: the interface's language at once, and the language my uploads start with", async () => {
  const viewer = await newUser(base, "lughat");
  const ctx = await context(browser, base, viewer.token);
  const page = await ctx.newPage();
  try {
    await page.goto("/settings");
    await page.waitForSelector("[data-testid=settings-language]");
    await page.selectOption("[data-testid=settings-lang]", "ar");
    await page.waitForFunction(() => document.documentElement.dir === "rtl");
    // The page and the header follow.
    await page.waitForSelector("[data-testid=settings-language] h2:has-text('اللغة')");
    expect(await page.inputValue("[data-testid=lang]")).toBe("ar");
    await page.selectOption("[data-testid=settings-video-lang]", "ar");
    await page.goto("/upload");
    await page.waitForSelector("[data-testid=language]");
    expect(await page.inputValue("[data-testid=language]")).toBe("ar");
    // Uploaded with it: the API has the video's language.
    await page.setInputFiles("[data-testid=file]", CLIP);
    await page.fill("[data-testid=title]", "فيديو باللغة العربية");
    await page.click("[data-testid=start]");
    await page.waitForSelector("[data-testid=watch-link]", { timeout: 150_000 });
    const id = (await page.getAttribute("[data-testid=watch-link]", "href"))!.split("/").pop()!;
    const v = await api<{ language?: string | null }>(base, "GET", `/api/v1/videos/${id}`, viewer.token);
    expect(v.language).toBe("ar");
  } finally {
    await ctx.close();
  }
});
