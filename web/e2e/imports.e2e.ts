// Importing in Debian's chromium against `kadr all`, which may fetch from `localhost` only
// (KADR_OUTBOUND__ALLOW in server.ts): the test's own HTTP server hands out a test clip slowly,
// without Range. Two addresses pasted by the keyboard, one good and one on a loopback address
// the server refuses at the door (url_not_allowed, in English, Russian and Arabic); the good
// one followed through "fetching" to "fetched" with its bytes; the report downloaded and read;
// pasting again marks the row "already imported". A manifest (CSV with a quoted Cyrillic title
// and a row with a bad date) becomes one batch, which an administrator finds under Moderation,
// samples and approves; the owner is told once. Settings make a token with scopes, shown once.
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import type { ImportView } from "../src/api";
import { formatBytes } from "../src/format";
import { parseCsv } from "../src/manifest";
import { api, ARTIFACTS, axeSerious, context, eventually, launch, newUser, shot, signIn, testClip, waitVideo } from "./helpers";

const base = inject("base");
let browser: Browser;
let admin: string;
let importer: { username: string; token: string };
let clip: Buffer;
let server: Server;
/** The test's HTTP server, by the one name the server may reach. */
let origin: string;
/** The paths asked of it. */
const asked: string[] = [];
/** A loopback address the server refuses whatever the allow-list names. */
const REFUSED = "http://127.0.0.1:1/x";
const MANIFEST = `archive-${Date.now()}.csv`;

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
  // Not verified: what they import waits for moderation, a manifest as one batch.
  importer = await newUser(base, "importer");
  clip = readFileSync(testClip(join(ARTIFACTS, "media"), 4));
  // The clip in 25 pieces over about five seconds: long enough to be seen fetching.
  server = createServer((req, res) => {
    asked.push(req.url ?? "");
    if (!/^\/clips\/[\w-]+\.mp4$/.test(req.url ?? "")) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { "content-type": "video/mp4", "content-length": clip.length });
    const piece = Math.ceil(clip.length / 25);
    let at = 0;
    const next = () => {
      if (res.destroyed) return;
      const end = Math.min(clip.length, at + piece);
      res.write(clip.subarray(at, end));
      at = end;
      if (at < clip.length) setTimeout(next, 200);
      else res.end();
    };
    next();
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  origin = `http://localhost:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((ok) => (server ? server.close(() => ok()) : ok()));
});

/** The import page, reached as a user does: from the upload page's link. */
async function openImport(page: Page): Promise<void> {
  await page.goto("/upload");
  await page.click("[data-testid=import-link]");
  await page.waitForSelector("[data-testid=import-urls]");
  expect(new URL(page.url()).pathname).toBe("/import");
}

/** The run's row of `line`. */
const runRow = (page: Page, line: number) => page.locator(`[data-testid=run-row][data-line="${line}"]`);

/** Waits until the run's row of `line` shows `state` (the server's `fetched`, `failed`…). */
async function rowState(page: Page, line: number, state: string, ms = 90_000): Promise<void> {
  await page.waitForFunction(([l, s]) => document.querySelector(`[data-testid=run-row][data-line="${l}"] [data-testid=import-state]`)?.getAttribute("data-state") === s, [line, state] as const, { timeout: ms });
}

/** Downloads the report behind `button` and reads it (header first). */
async function report(page: Page, button: string): Promise<{ name: string; rows: string[][] }> {
  const [saved] = await Promise.all([page.waitForEvent("download"), page.click(button)]);
  const path = join(ARTIFACTS, saved.suggestedFilename());
  await saved.saveAs(path);
  const { records, error } = parseCsv(readFileSync(path, "utf8"));
  expect(error).toBeNull();
  return { name: saved.suggestedFilename(), rows: records.map((r) => r.fields) };
}

/** Pastes `urls` into the form and starts it by the keyboard alone. */
async function paste(page: Page, urls: string[]): Promise<void> {
  await page.fill("[data-testid=import-urls]", "");
  await page.focus("[data-testid=import-urls]");
  await page.keyboard.type(urls.join("\n"));
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("import-start");
  await page.keyboard.press("Enter");
}

const imports = (query: string) => api<{ items: ImportView[] }>(base, "GET", `/api/v1/imports?${query}`, importer.token);

test("two addresses pasted: one refused at the door in words, the other fetched with its progress; the report; pasted again, already imported", async () => {
  const good = `${origin}/clips/pasted.mp4`;
  const ctx = await context(browser, base, importer.token);
  const page = await ctx.newPage();
  try {
    await openImport(page);
    // Every state and byte count the good row shows, kept by the page itself.
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      new MutationObserver(() => {
        const row = document.querySelector('[data-testid=run-row][data-line="1"]');
        const text = `${row?.querySelector("[data-testid=import-state]")?.getAttribute("data-state") ?? ""}|${row?.querySelector("[data-testid=import-bytes]")?.textContent ?? ""}`;
        if (row && seen.at(-1) !== text) seen.push(text);
      }).observe(document.querySelector("main")!, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    await paste(page, [good, REFUSED]);

    // Refused at once, in the page's words, and no video made for it.
    await page.waitForFunction(() => !!document.querySelector('[data-testid=run-row][data-line="2"] [data-testid=import-error]'));
    expect(await runRow(page, 2).locator("[data-testid=import-error]").textContent()).toBe(
      "This address cannot be imported from: only http and https addresses on the public Internet, or hosts the administrator allows.",
    );
    expect(await runRow(page, 2).locator("[data-testid=import-watch]").count()).toBe(0);

    // The good one: fetching, then fetched with all its bytes.
    await rowState(page, 1, "fetched");
    const total = formatBytes(clip.length, "en");
    await page.waitForFunction((text) => document.querySelector('[data-testid=run-row][data-line="1"] [data-testid=import-bytes]')?.textContent === text, `${total} of ${total}`);
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    expect(seen.some((s) => s.startsWith("fetching|")), seen.join(", ")).toBe(true);
    expect(seen.at(-1)).toBe(`fetched|${total} of ${total}`);
    expect(await runRow(page, 1).locator("progress").evaluate((p) => [(p as HTMLProgressElement).value, (p as HTMLProgressElement).max])).toEqual([clip.length, clip.length]);
    expect(await page.textContent("[data-testid=run-counts]")).toBe("Done: 1 · waiting: 0 · failed: 1");
    const href = await runRow(page, 1).locator("[data-testid=import-watch]").getAttribute("href");
    const [made] = (await imports(`external_id=${encodeURIComponent(good)}`)).items;
    expect(made.state).toBe("fetched");
    expect(href).toBe(`/watch/${made.video_id}`);
    expect(asked).toContain("/clips/pasted.mp4");
    // The list of my imports has it too.
    await page.waitForSelector(`[data-testid=import-row][data-import-id="${made.id}"] [data-state=fetched]`);
    await shot(page, "imports-pasted");
    expect(await axeSerious(page)).toEqual([]);

    // The report: the CLI's columns, a line per pasted line.
    const first = await report(page, "[data-testid=run-report]");
    expect(first.name).toBe("import.report.csv");
    expect(first.rows).toEqual([
      ["line", "external_id", "video_id", "status", "code", "message"],
      ["1", good, made.video_id, "imported", "", "Fetched"],
      ["2", REFUSED, "", "failed", "url_not_allowed", "This address cannot be imported from: only http and https addresses on the public Internet, or hosts the administrator allows."],
    ]);

    // In Russian, the same two again: the first is the import it was (no second video), the
    // other refused in Russian.
    await page.selectOption("[data-testid=lang]", "ru");
    await page.waitForFunction(() => document.querySelector("h1")?.textContent === "Импорт видео");
    await paste(page, [good, REFUSED]);
    await rowState(page, 1, "fetched");
    await runRow(page, 1).locator("[data-testid=import-already]").waitFor();
    expect(await runRow(page, 1).locator("[data-testid=import-already]").textContent()).toBe("Уже импортировано");
    await runRow(page, 2).locator("[data-testid=import-error]").waitFor();
    expect(await runRow(page, 2).locator("[data-testid=import-error]").textContent()).toBe(
      "С этого адреса импортировать нельзя: только адреса http и https в открытом интернете или узлы, разрешённые администратором.",
    );
    expect((await imports(`external_id=${encodeURIComponent(good)}`)).items.map((i) => i.id)).toEqual([made.id]);
    const again = await report(page, "[data-testid=run-report]");
    expect(again.rows[1]).toEqual(["1", good, made.video_id, "skipped", "", "Скачано"]);
    expect(again.rows[2].slice(0, 5)).toEqual(["2", REFUSED, "", "failed", "url_not_allowed"]);

    // In Arabic: right to left, the table's first column on the right, and nothing serious for axe.
    await page.selectOption("[data-testid=lang]", "ar");
    await page.waitForFunction(() => document.documentElement.dir === "rtl" && document.querySelector("h1")?.textContent === "استيراد فيديوهات");
    await paste(page, [good, REFUSED]);
    await rowState(page, 1, "fetched");
    await runRow(page, 2).locator("[data-testid=import-error]").waitFor();
    expect(await runRow(page, 2).locator("[data-testid=import-error]").textContent()).toMatch(/^لا يمكن الاستيراد من هذا العنوان/);
    const heads = await page.$$eval("[data-testid=run-table] th", (ths) => ths.map((th) => th.getBoundingClientRect().x));
    expect(heads[0]).toBeGreaterThan(heads.at(-1)!);
    expect(await page.$eval("[data-testid=run-table]", (el) => getComputedStyle(el).direction)).toBe("rtl");
    // The address itself still reads left to right.
    expect(await runRow(page, 1).locator(".import-item").evaluate((el) => getComputedStyle(el).direction)).toBe("ltr");
    await shot(page, "imports-pasted-ar");
    expect(await axeSerious(page)).toEqual([]);
    // The account keeps the language it was switched to: English again for what follows.
    await page.selectOption("[data-testid=lang]", "en");
    await page.waitForFunction(() => document.documentElement.dir === "ltr" && document.querySelector("h1")?.textContent === "Import videos");
  } finally {
    await ctx.close();
  }
});

let batchVideos: string[] = [];

test("a manifest becomes one batch: good rows fetched, the bad date reported on its line, the Cyrillic title kept", async () => {
  const title = "Заповедник «Кедровая падь», выпуск \"12\"";
  const csv = [
    "source,external_id,title,tags,original_date",
    `${origin}/clips/ep-12.mp4,archive/ep-12,"Заповедник «Кедровая падь», выпуск ""12""",природа|архив,2019-05-01`,
    `${origin}/clips/ep-11.mp4,archive/ep-11,Выпуск 11,,2018-03-04T10:00:00Z`,
    `${origin}/clips/ep-10.mp4,archive/ep-10,Плохая дата,,01.05.2019`,
  ].join("\r\n");
  const ctx = await context(browser, base, importer.token);
  const page = await ctx.newPage();
  try {
    await openImport(page);
    await page.selectOption("[data-testid=import-privacy]", "unlisted");
    await page.setInputFiles("[data-testid=import-manifest]", { name: MANIFEST, mimeType: "text/csv", buffer: Buffer.from(csv) });
    await page.click("[data-testid=manifest-start]");
    await page.waitForSelector("[data-testid=run-table]");
    expect(await page.textContent("[data-testid=import-run] h2")).toBe(`This import: batch “${MANIFEST}”`);
    expect(await page.textContent("[data-testid=run-note]")).toBe("Rows: 3 · to import: 2 · not sent: 1");
    // The bad date: not sent, said on its line.
    expect(await runRow(page, 4).locator("[data-testid=import-error]").textContent()).toBe("The original date “01.05.2019” is not a date (YYYY-MM-DD) or an RFC 3339 time.");
    await rowState(page, 2, "fetched");
    await rowState(page, 3, "fetched");
    expect(asked).not.toContain("/clips/ep-10.mp4");

    const [ep12] = (await imports("external_id=archive/ep-12")).items;
    const [ep11] = (await imports("external_id=archive/ep-11")).items;
    expect(ep12.original_date).toMatch(/^2019-05-01T00:00:00/);
    const video = await api<{ title: string; tags: string[]; privacy: string; moderation: { state: string } }>(base, "GET", `/api/v1/videos/${ep12.video_id}`, importer.token);
    expect(video).toMatchObject({ title, tags: ["природа", "архив"], privacy: "unlisted", moderation: { state: "pending" } });
    batchVideos = [ep12.video_id, ep11.video_id];

    // My imports, the batch only (offered at once): the two of this manifest.
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=import-row]").length === 2);
    expect(await page.isChecked("[data-testid=list-batch]")).toBe(true);
    expect((await page.$$eval("[data-testid=import-row]", (rows) => rows.map((r) => r.getAttribute("data-import-id")))).sort()).toEqual([ep12.id, ep11.id].sort());

    const { name, rows } = await report(page, "[data-testid=run-report]");
    expect(name).toBe(MANIFEST.replace(/\.csv$/, ".report.csv"));
    expect(rows).toEqual([
      ["line", "external_id", "video_id", "status", "code", "message"],
      ["2", "archive/ep-12", ep12.video_id, "imported", "", "Fetched"],
      ["3", "archive/ep-11", ep11.video_id, "imported", "", "Fetched"],
      ["4", "archive/ep-10", "", "failed", "bad_date", "The original date “01.05.2019” is not a date (YYYY-MM-DD) or an RFC 3339 time."],
    ]);
    // The listed imports' report has them too.
    const listed = await report(page, "[data-testid=list-report]");
    expect(listed.rows.slice(1).map((r) => [r[1], r[2], r[3]]).sort()).toEqual([
      ["archive/ep-11", ep11.video_id, "imported"],
      ["archive/ep-12", ep12.video_id, "imported"],
    ]);
    await shot(page, "imports-manifest");
  } finally {
    await ctx.close();
  }
});

test("moderators find the batch, watch a sample and approve it whole; the owner is told once", async () => {
  expect(batchVideos).toHaveLength(2);
  for (const id of batchVideos) await waitVideo(base, importer.token, id, (v) => v.status === "ready");
  const ctx = await context(browser, base, admin);
  const page = await ctx.newPage();
  try {
    await page.goto("/moderation");
    await page.click("[data-testid=mod-tab-batches]");
    const batch = page.locator("[data-testid=batch]", { hasText: MANIFEST });
    await batch.waitFor();
    expect(await page.getAttribute("[data-testid=mod-tab-batches]", "aria-current")).toBe("page");
    expect(await batch.textContent()).toContain(`by ${importer.username}`);
    expect(await batch.locator("[data-testid=batch-counts]").textContent()).toBe("Waiting: 2 · ready to decide: 2 · in all: 2");
    // The sample by the keyboard: both videos as cards.
    await batch.locator("[data-testid=batch-sample-button]").focus();
    await page.keyboard.press("Enter");
    await batch.locator("[data-testid=batch-sample-grid] [data-testid=video-card]").nth(1).waitFor();
    expect(await batch.locator("[data-testid=batch-sample-button]").getAttribute("aria-expanded")).toBe("true");
    expect((await batch.locator("[data-testid=video-card]").evaluateAll((cards) => cards.map((c) => c.getAttribute("data-video-id")))).sort()).toEqual([...batchVideos].sort());
    expect(await batch.locator("[data-testid=video-card] .card-title").allTextContents()).toContain("Заповедник «Кедровая падь», выпуск \"12\"");
    await shot(page, "imports-batch");
    expect(await axeSerious(page)).toEqual([]);

    await batch.locator("[data-testid=batch-approve]").click();
    await page.waitForFunction(() => !!document.querySelector("[data-testid=batch-result]")?.textContent);
    expect(await batch.locator("[data-testid=batch-result]").textContent()).toBe("Decided now: 2 · still waiting: 0");
    expect(await batch.locator("[data-testid=batch-approve]").isDisabled()).toBe(true);
    for (const id of batchVideos) {
      expect((await api<{ moderation: { state: string } }>(base, "GET", `/api/v1/videos/${id}`, importer.token)).moderation.state).toBe("approved");
    }
  } finally {
    await ctx.close();
  }
  // One notice for the two.
  const owner = await context(browser, base, importer.token);
  const mine = await owner.newPage();
  try {
    await mine.goto("/notifications");
    await eventually(
      "the batch's notice",
      async () => (await mine.locator("[data-testid=notification]", { hasText: "2 imported videos were approved" }).count()) === 1,
      30_000,
      () => mine.reload(),
    );
  } finally {
    await owner.close();
  }
});

test("settings make a token with scopes, shown once with a copy button; listed with its kind and scopes; revoked", async () => {
  const ctx = await context(browser, base, importer.token);
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await ctx.newPage();
  try {
    await page.goto("/settings");
    await page.waitForSelector("[data-testid=token-name]");
    // A user is not offered moderation or administration.
    const offered = await page.$$eval("input[name=token-scope]", (boxes) => boxes.map((b) => (b as HTMLInputElement).value));
    expect(offered).toEqual(["read", "upload", "manage", "interact", "webhooks"]);
    await page.fill("[data-testid=token-name]", "ночной импорт");
    await page.check("[data-testid=token-kind-integration]");
    await page.check("[data-testid=token-scope-upload]");
    await page.fill("[data-testid=token-days]", "30");
    await page.click("[data-testid=token-make]");
    await page.waitForSelector("[data-testid=token-made]:not([hidden])");
    expect(await page.textContent("[data-testid=token-warning]")).toBe("The token “ночной импорт” is made. Copy it now: it will not be shown again.");
    const token = await page.inputValue("[data-testid=token-value]");
    expect(token.length).toBeGreaterThan(20);
    await page.click("[data-testid=token-copy]");
    await page.waitForFunction(() => document.querySelector("[data-testid=token-status]")?.textContent === "Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(token);

    // It reads and imports, and reaches nothing of the account itself.
    expect((await fetch(`${base}/api/v1/imports`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    const own = await fetch(`${base}/api/v1/me/sessions`, { headers: { authorization: `Bearer ${token}` } });
    expect(own.status).toBe(403);

    // Listed with its kind and what it may do; after a reload the token itself is gone.
    const row = page.locator("[data-testid=session]", { hasText: "ночной импорт" });
    await row.waitFor();
    expect(await row.locator("[data-testid=session-kind]").textContent()).toBe("Integration token");
    expect(await row.locator("[data-testid=session-scopes]").textContent()).toBe("May: read everything the account may see, upload and import videos");
    await shot(page, "imports-token");
    await page.reload();
    await page.waitForSelector("[data-testid=session]");
    expect(await page.isHidden("[data-testid=token-made]")).toBe(true);
    expect(await page.locator("[data-testid=token-value]").count()).toBe(0);
    const listed = page.locator("[data-testid=session]", { hasText: "ночной импорт" });
    await listed.locator("[data-testid=session-revoke]").click();
    await listed.waitFor({ state: "detached" });
    expect((await fetch(`${base}/api/v1/imports`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
  } finally {
    await ctx.close();
  }
  // An administrator is offered every scope.
  const adminCtx = await context(browser, base, admin);
  const adminPage = await adminCtx.newPage();
  try {
    await adminPage.goto("/settings");
    await adminPage.waitForSelector("[data-testid=token-name]");
    expect(await adminPage.$$eval("input[name=token-scope]", (boxes) => boxes.map((b) => (b as HTMLInputElement).value))).toEqual(["read", "upload", "manage", "interact", "moderate", "admin", "webhooks"]);
  } finally {
    await adminCtx.close();
  }
});
