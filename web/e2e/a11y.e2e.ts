// Accessibility in Debian's chromium: axe-core (the standard engine, WCAG 2.0/2.1 A and AA and
// its best practices) on each main page in English and in Arabic (import and the moderators'
// import batches among them), signed in where the page needs it, and on a video's details
// (subtitles, sharing) as its owner sees them; and what axe cannot see: the keyboard's path
// (skip link, visible focus, a dialog that holds the focus and closes on Escape).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { AxeResults, ImpactValue } from "axe-core";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { api, ARTIFACTS, CLIP, context, launch, newUser, openEditPage, putCaptions, signIn, tusUpload, verticalClip, waitVideo } from "./helpers";

const base = inject("base");
const AXE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
const RULES = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];
const BLOCKING: ImpactValue[] = ["serious", "critical"];

let browser: Browser;
let admin: string;
let video: string;
let viewer: { username: string; token: string };

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
  // Something in the viewer's notifications: a new video from a channel they follow.
  viewer = await newUser(base, "a11y");
  await api(base, "PUT", "/api/v1/channels/admin/subscription", viewer.token);
  video = await tusUpload(base, admin, CLIP, { title: "Accessible bunny", description: "Blender Foundation, CC BY 3.0" });
  const short = await tusUpload(base, admin, verticalClip(join(ARTIFACTS, "media")), { title: "Accessible short" });
  await waitVideo(base, admin, video, (v) => v.status === "ready");
  await waitVideo(base, admin, short, (v) => v.status === "ready");
});
afterAll(async () => {
  await browser?.close();
});

/** What axe found, one line per rule and the first nodes of each. */
interface Finding {
  id: string;
  impact: ImpactValue | null | undefined;
  help: string;
  nodes: { target: string; html: string; summary: string }[];
}

/** Where axe looks: the selectors of the parts to include (axe's context, as plain data). */
interface Within {
  include: string[][];
  exclude?: string[][];
}

/** axe's violations on the page (within `within`, the whole document by default). */
async function audit(page: Page, within?: Within): Promise<Finding[]> {
  // Evaluated rather than added as a <script>: the page's CSP allows no inline script.
  if (!(await page.evaluate(() => "axe" in window))) await page.evaluate(AXE);
  const args: { rules: string[]; within: Within | null } = { rules: RULES, within: within ?? null };
  const found: Finding[] = await page.evaluate(async (a: { rules: string[]; within: Within | null }) => {
    const axe = (window as unknown as { axe: { run(c: unknown, o: unknown): Promise<AxeResults> } }).axe;
    const result = await axe.run(a.within ?? document, { runOnly: a.rules, resultTypes: ["violations"] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.slice(0, 5).map((n) => ({ target: n.target.join(" "), html: n.html.slice(0, 160), summary: n.failureSummary ?? "" })),
    }));
  }, args);
  return found;
}

function report(where: string, findings: Finding[]): void {
  if (!findings.length) console.log(`[axe] ${where}: no violations`);
  for (const f of findings) {
    console.log(`[axe] ${where}: ${f.impact ?? "?"} ${f.id} — ${f.help}`);
    for (const n of f.nodes) console.log(`        ${n.target}  ${n.html}`);
  }
}

const blocking = (findings: Finding[]) => findings.filter((f) => f.impact && BLOCKING.includes(f.impact)).map((f) => `${f.id}: ${f.nodes.map((n) => n.target).join(", ")}`);

/** Opens `path` in `lang` (signed in with `token`), waits for `ready`, and audits it. */
async function pageAudit(lang: string, path: string, ready: string, token?: string, scheme: "light" | "dark" = "light", within?: Within, click?: string): Promise<Finding[]> {
  const ctx = await context(browser, base, token);
  await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
  const page = await ctx.newPage();
  await page.emulateMedia({ colorScheme: scheme });
  try {
    await page.goto(path);
    // A page reached by a link from another (the way its users reach it).
    if (click) await page.click(click);
    await page.waitForSelector(ready);
    await page.waitForLoadState("networkidle");
    const findings = await audit(page, within);
    report(`${lang} ${path} (${scheme})`, findings);
    return findings;
  } finally {
    await ctx.close();
  }
}

const PAGES: { name: string; path: () => string; ready: string; signedIn?: boolean; admin?: boolean; click?: string; within?: Within }[] = [
  { name: "home", path: () => "/", ready: "[data-testid=video-card]" },
  { name: "upload", path: () => "/upload", ready: "[data-testid=file]", signedIn: true },
  // The import page, from the upload page's link (its run and list: imports.e2e.ts).
  { name: "import", path: () => "/upload", click: "[data-testid=import-link]", ready: "[data-testid=import-urls]", signedIn: true },
  // (A batch with its sample open: imports.e2e.ts.)
  { name: "moderation's import batches", path: () => "/moderation?tab=batches", ready: "[data-testid=mod-tab-batches][aria-current=page]", signedIn: true, admin: true },
  { name: "channel", path: () => "/c/admin", ready: "[data-testid=video-card]" },
  { name: "search", path: () => "/search?q=bunny", ready: "[data-testid=video-card]" },
  { name: "settings", path: () => "/settings", ready: "[data-testid=session]", signedIn: true },
  // The webhooks page, from the settings page's link (with endpoints and their log: webhooks.e2e.ts).
  { name: "webhooks", path: () => "/settings", click: "[data-testid=settings-webhooks-link]", ready: "[data-testid=webhook-add] form", signedIn: true },
  { name: "login", path: () => "/login", ready: "form.auth-form" },
  { name: "notifications", path: () => "/notifications", ready: "[data-testid=notification]", signedIn: true },
  // The feed around the player (the player itself is the watch page's, audited there).
  { name: "shorts", path: () => "/shorts", ready: "[data-testid=short] video", within: { include: [["#top"], ["main"]], exclude: [[".player"]] } },
];

for (const lang of ["en", "ar"]) {
  for (const p of PAGES) {
    test(`axe finds nothing serious on ${p.name} (${lang})`, async () => {
      const findings = await pageAudit(lang, p.path(), p.ready, p.admin ? admin : p.signedIn ? viewer.token : undefined, "light", p.within, p.click);
      expect(blocking(findings)).toEqual([]);
    });
  }
}

test("axe finds nothing serious on a video's details (subtitles, sharing), in English and Arabic, light and dark", async () => {
  // A caption listed and the sites' field open: every part of the page shown.
  await putCaptions(base, admin, video, "ru", "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nПривет\n");
  for (const [lang, scheme] of [["en", "light"], ["ar", "light"], ["en", "dark"]] as const) {
    const ctx = await context(browser, base, admin);
    await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
    const page = await ctx.newPage();
    await page.emulateMedia({ colorScheme: scheme });
    try {
      await openEditPage(page, video);
      await page.waitForSelector("[data-testid=caption-row]");
      await page.check("[data-testid=embed-some]");
      await page.selectOption("[data-testid=caption-lang]", "other");
      await page.waitForLoadState("networkidle");
      // The page itself (the header is audited on every page above; the administrator's bell
      // is reported, not asserted, here).
      report(`${lang} /me/videos/{id} (${scheme}, whole page)`, await audit(page));
      const findings = await audit(page, { include: [["main"]] });
      report(`${lang} /me/videos/{id} (${scheme})`, findings);
      expect(blocking(findings), `${lang} ${scheme}`).toEqual([]);
    } finally {
      await ctx.close();
    }
  }
});

test("the dark theme keeps its contrast too", async () => {
  for (const p of PAGES.filter((p) => ["home", "settings", "channel", "notifications"].includes(p.name))) {
    const findings = await pageAudit("en", p.path(), p.ready, p.signedIn ? viewer.token : undefined, "dark");
    expect(blocking(findings), p.name).toEqual([]);
  }
});

test("axe on the watch page: nothing serious in the header and the comments; the rest is reported", async () => {
  for (const lang of ["en", "ar"]) {
    const ctx = await context(browser, base, viewer.token);
    await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
    const page = await ctx.newPage();
    await page.goto(`/watch/${video}`);
    await page.waitForSelector("[data-testid=player] video");
    await page.waitForSelector("[data-testid=comments], .comments");
    await page.waitForLoadState("networkidle");
    // The player and the page around it are the watch page's own (reported, not asserted).
    report(`${lang} /watch (whole page)`, await audit(page));
    const ours = await audit(page, { include: [["#top"], [".comments"]] });
    expect(blocking(ours), lang).toEqual([]);
    await ctx.close();
  }
});

test("the keyboard: skip link first, focus always visible, into the page in one step", async () => {
  const ctx = await context(browser, base, viewer.token);
  const page = await ctx.newPage();
  await page.goto("/");
  await page.waitForSelector("[data-testid=video-card]");
  await page.keyboard.press("Tab");
  const first = await page.evaluate(() => ({ cls: document.activeElement?.className, text: document.activeElement?.textContent, top: document.activeElement!.getBoundingClientRect().top }));
  expect(first.cls).toBe("skip-link");
  expect(first.text).toBe("Skip to content");
  // Shown while it has the focus.
  expect(first.top).toBeGreaterThanOrEqual(0);
  await page.keyboard.press("Enter");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");
  expect(new URL(page.url()).pathname).toBe("/");
  // The next stop is in the page (the first card's title), with a visible ring.
  await page.keyboard.press("Tab");
  const next = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    return { inMain: !!el.closest("main"), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(next.inMain).toBe(true);
  expect(next.outline).not.toBe("none");
  expect(next.width).toBeGreaterThanOrEqual(2);

  // Every stop of the header shows where it is.
  await page.goto("/");
  await page.waitForSelector("[data-testid=video-card]");
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press("Tab");
    const stop = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement;
      const style = getComputedStyle(el);
      return { tag: el.tagName, inHeader: !!el.closest("#top"), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    if (!stop.inHeader) continue;
    expect(stop.outline, stop.tag).not.toBe("none");
    expect(stop.width, stop.tag).toBeGreaterThanOrEqual(2);
  }
  await ctx.close();
});

test("a dialog holds the focus, closes on Escape and gives the focus back", async () => {
  const ctx = await context(browser, base, viewer.token);
  const page = await ctx.newPage();
  await page.goto("/c/admin");
  await page.waitForSelector("[data-testid=video-card]");
  // The channel's menu ("More actions") by keyboard: focus its button, open it, choose Report.
  await page.locator("[data-testid=channel-menu] > summary").focus();
  await page.keyboard.press("Enter");
  const item = page.locator("[data-testid=channel-menu][open] [data-testid=channel-report]");
  await item.focus();
  await page.keyboard.press("Enter");
  await page.waitForSelector("dialog[open][data-testid=report-dialog]");
  // Tab as often as there are controls and more: the focus stays inside.
  for (let i = 0; i < 16; i++) {
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => !!document.activeElement?.closest("dialog[open]"))).toBe(true);
  }
  await page.keyboard.press("Escape");
  await page.waitForSelector("dialog[data-testid=report-dialog]", { state: "detached" });
  expect(await page.evaluate(() => !!document.activeElement?.matches("[data-testid=channel-menu] > summary"))).toBe(true);
  await ctx.close();
});
