// `make screenshots`: home, watch, upload, shorts and moderation, and the community's pages (a
// channel, comments under a video, notifications, the subscription feed) at desktop and phone
// sizes, written to $KADR_SCREENSHOTS (docs/screenshots). Skipped in `make test`.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, inject, test } from "vitest";
import {
  api,
  ARTIFACTS,
  channelPicture,
  CLIP,
  context,
  eventually,
  frame,
  launch,
  newUser,
  playsPast,
  ROOT,
  signIn,
  tusUpload,
  verify,
  verticalClip,
  waitVideo,
} from "./helpers";

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

  // A channel with pictures, description and links; a viewer per size (each one's
  // notifications are seen once) who follows it, comments and is answered.
  const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 375, height: 812 } };
  const studio = await newUser(base, "studio");
  await verify(base, admin, studio.token);
  const handle = "krolik";
  await api(base, "POST", "/api/v1/channels", studio.token, {
    handle,
    display_name: "Студия «Кролик»",
    description: "Короткие фильмы о жизни леса: кролики, бабочки и белки.\nНовое видео каждую неделю. Лучшие моменты отмечены временем в описании, например 0:03.",
    links: [
      { title: "Blender Foundation", url: "https://www.blender.org/" },
      { title: "Peach open movie", url: "https://peach.blender.org/" },
    ],
  });
  const media = join(ARTIFACTS, "media");
  await channelPicture(base, studio.token, handle, "avatar", frame(CLIP, media, "avatar.jpg", 1.5), "image/jpeg");
  await channelPicture(base, studio.token, handle, "banner", frame(CLIP, media, "banner.jpg", 3.5), "image/jpeg");
  const viewers: Record<string, { username: string; token: string }> = {};
  for (const size of Object.keys(sizes)) {
    const v = await newUser(base, "зритель");
    await api(base, "PUT", `/api/v1/channels/${handle}/subscription`, v.token);
    await api(base, "PUT", "/api/v1/channels/admin/subscription", v.token);
    viewers[size] = v;
  }
  const studioTitles = ["Кролик просыпается", "Бабочки над поляной", "Как мы снимали «Кролика»"];
  const studioIds: string[] = [];
  for (const title of studioTitles) {
    studioIds.push(await tusUpload(base, studio.token, CLIP, { title, channel: handle, description: "Смотрите с 0:02 — там самое интересное.\nhttps://peach.blender.org/" }));
  }
  for (const id of studioIds) await waitVideo(base, studio.token, id, (v) => v.status === "ready");
  const watched = studioIds[0];
  const lines = ["Пересматриваю момент на 0:03 — великолепно!", "Отличная анимация. Исходники тут: https://peach.blender.org/download/"];
  for (const [i, v] of Object.values(viewers).entries()) {
    const c = await api<{ id: string }>(base, "POST", `/api/v1/videos/${watched}/comments`, v.token, { body: lines[i] });
    await api(base, "POST", `/api/v1/videos/${watched}/comments`, studio.token, { body: "Спасибо! Рады, что понравилось.", parent_id: c.id });
    await api(base, "PUT", `/api/v1/comments/${c.id}/like`, studio.token);
    await api(base, "PUT", `/api/v1/videos/${watched}/rating`, v.token, { rating: "like" });
    if (i === 0) await api(base, "PUT", `/api/v1/comments/${c.id}/pin`, studio.token);
  }
  await api(base, "POST", `/api/v1/videos/${watched}/comments`, admin, { body: "Добро пожаловать на Кадр! Хороший канал." });
  for (const v of Object.values(viewers)) {
    await eventually("the viewer's notifications", async () => {
      const page = await api<{ items: { type: string }[] }>(base, "GET", "/api/v1/me/notifications", v.token);
      return page.items.filter((n) => n.type === "new_video").length >= studioTitles.length && page.items.some((n) => n.type === "comment_reply");
    });
  }

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
    const viewer = viewers[size].token;
    await snap(viewer, `/c/${handle}`, "channel", async (p) => {
      await p.waitForSelector("[data-testid=video-card] img");
      await p.waitForSelector(".channel-banner img");
      await p.waitForLoadState("networkidle");
    });
    await snap(viewer, `/watch/${watched}`, "comments", async (p) => {
      await p.waitForSelector("[data-testid=comment]");
      await p.click("[data-testid=comment].pinned [data-testid=show-replies]");
      await p.waitForSelector("[data-testid=replies] [data-testid=comment]");
      await p.waitForLoadState("networkidle");
      // The title, likes and the comments under it.
      await p.evaluate(() => {
        const top = document.querySelector("[data-testid=watch-title]")!.getBoundingClientRect().top;
        scrollTo(0, scrollY + top - document.getElementById("top")!.offsetHeight - 8);
      });
    });
    await snap(viewer, "/feed", "feed", async (p) => {
      await p.waitForSelector("[data-testid=video-card] img");
      await p.waitForLoadState("networkidle");
    });
    await snap(viewer, "/notifications", "notifications", async (p) => {
      await p.waitForSelector("[data-testid=notification] img");
      await p.waitForLoadState("networkidle");
    });
  }
});
