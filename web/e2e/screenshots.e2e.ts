// `make screenshots`: home, watch, upload, shorts and moderation at desktop and phone sizes,
// written to $KADR_SCREENSHOTS (docs/screenshots). Skipped in `make test`.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, inject, test } from "vitest";
import { ARTIFACTS, CLIP, context, launch, newUser, playsPast, ROOT, signIn, tusUpload, verticalClip, waitVideo } from "./helpers";

const out = process.env.KADR_SCREENSHOTS;
const base = inject("base");
let browser: Browser;

beforeAll(async () => {
  if (out) browser = await launch();
});
afterAll(async () => {
  await browser?.close();
});

test.skipIf(!out)("screenshots of every main page at desktop and phone sizes", async () => {
  const dir = resolve(ROOT, out!);
  mkdirSync(dir, { recursive: true });
  const admin = await signIn(base, "admin", inject("adminPassword"));
  const titles = [
    "Большой кролик: утро в лесу",
    "Big Buck Bunny — the morning",
    "الأرنب الكبير في الغابة",
    "Кролик и бабочка",
  ];
  const ids: string[] = [];
  for (const title of titles) ids.push(await tusUpload(base, admin, CLIP, { title, description: "Blender Foundation, CC BY 3.0" }));
  const short = await tusUpload(base, admin, verticalClip(join(ARTIFACTS, "media")), { title: "Вертикальный тест" });
  const author = await newUser(base, "автор");
  const pending = await tusUpload(base, author.token, CLIP, { title: "Новое видео ждёт проверки" });
  for (const id of [...ids, short, pending]) await waitVideo(base, admin, id, (v) => v.status === "ready");

  const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 812 } };
  for (const [size, viewport] of Object.entries(sizes)) {
    const snap = async (token: string | undefined, path: string, name: string, ready: (p: Page) => Promise<void>) => {
      const ctx = await context(browser, base, token, viewport);
      await ctx.addInitScript(() => localStorage.setItem("kadr.lang", "ru"));
      const page = await ctx.newPage();
      await page.goto(path);
      await ready(page);
      await page.screenshot({ path: join(dir, `${name}-${size}.png`) });
      await ctx.close();
    };
    await snap(undefined, "/", "home", async (p) => {
      await p.waitForSelector("[data-testid=video-card] img");
      await p.waitForLoadState("networkidle");
    });
    await snap(admin, `/watch/${ids[0]}`, "watch", async (p) => {
      await p.click(".controls .play");
      await playsPast(p, 2);
      await p.evaluate(() => document.querySelector("video")!.pause());
      await p.hover(".seek");
    });
    await snap(admin, "/upload", "upload", async (p) => {
      await p.setInputFiles("[data-testid=file]", CLIP);
    });
    await snap(undefined, "/shorts", "shorts", async (p) => playsPast(p, 1, "[data-testid=short] video"));
    await snap(admin, "/moderation", "moderation", async (p) => {
      await p.waitForSelector("[data-testid=mod-item] video");
    });
  }
});
