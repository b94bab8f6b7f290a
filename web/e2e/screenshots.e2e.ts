// `make screenshots`: home, watch, upload, shorts and moderation, the community's pages (a
// channel, comments under a video, notifications, the subscription feed), and its second part
// (a playlist, the watch page playing it beside related videos, history, settings, the
// administrators' users, the reports queue and the moderators' record) at desktop and phone
// sizes, in Russian, and home, watch and a channel in Arabic (right to left: ar-*.png); and the
// owner's side of reach in English and Arabic (the share dialog with its picture, an embed in
// another site's page, the captions manager, the player showing captions), the watch page's
// download menu and the poster picker, in English and Arabic, written to $KADR_SCREENSHOTS
// (docs/screenshots).
// Skipped in `make test`.
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
  openEditPage,
  putCaptions,
  serveHtml,
  playsPast,
  ROOT,
  signIn,
  tusUpload,
  userId,
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

  // Part 2: each viewer's playlist of the studio's videos and the first ones, positions in
  // their history, a blocked user; reports on a comment (from both) and a video; sanctions
  // and decisions for the record.
  const lists: Record<string, string> = {};
  for (const [i, v] of Object.values(viewers).entries()) {
    const me = Object.keys(viewers)[i];
    const pl = await api<{ id: string }>(base, "POST", "/api/v1/playlists", v.token, {
      title: "Лучшее о кролике",
      description: "Всё о кролике по порядку: от утра в лесу до съёмок.",
      privacy: "public",
    });
    for (const id of [...studioIds, ids[0], ids[3]]) await api(base, "PUT", `/api/v1/playlists/${pl.id}/videos/${id}`, v.token);
    // A viewer's words wait for a moderator before others see them.
    await api(base, "POST", `/api/v1/moderation/playlists/${pl.id}/approve`, admin, null);
    lists[me] = pl.id;
    const later = await api<{ id: string }>(base, "GET", "/api/v1/me/watch-later", v.token);
    await api(base, "PUT", `/api/v1/playlists/${later.id}/videos/${ids[1]}`, v.token);
    // Not the ones related to the watched video: related lists leave out the viewer's history.
    for (const [j, id] of [ids[2], short, ids[1]].entries()) {
      await api(base, "PUT", `/api/v1/videos/${id}/position`, v.token, { position_ms: 1000 + j * 1000 });
    }
    await api(base, "PUT", `/api/v1/me/blocks/${encodeURIComponent(author.username)}`, v.token);
    await api(base, "POST", "/api/v1/reports", v.token, { target_type: "video", target_id: ids[2], reason: i ? "copyright" : "spam", details: i ? "Это чужой фильм." : null });
  }
  const welcome = (await api<{ items: { id: string; author: { username: string } }[] }>(base, "GET", `/api/v1/videos/${watched}/comments`)).items.find((c) => c.author.username === "admin")!;
  const rude = await newUser(base, "грубиян");
  const insult = await api<{ id: string }>(base, "POST", `/api/v1/videos/${watched}/comments`, rude.token, { body: "Скучно и глупо, авторы бездари." });
  for (const v of Object.values(viewers)) await api(base, "POST", "/api/v1/reports", v.token, { target_type: "comment", target_id: insult.id, reason: "harassment", details: "Оскорбляет авторов." });
  await api(base, "POST", "/api/v1/reports", studio.token, { target_type: "comment", target_id: welcome.id, reason: "spam", details: null }).catch(() => {});
  const spammer = await newUser(base, "спамер");
  const spam = await api<{ id: string }>(base, "POST", `/api/v1/videos/${watched}/comments`, spammer.token, { body: "Дешёвые подписчики тут!!!" });
  await api(base, "POST", "/api/v1/reports", viewers.desktop.token, { target_type: "comment", target_id: spam.id, reason: "spam", details: null });
  await api(base, "POST", `/api/v1/moderation/reports/comment/${spam.id}/resolve`, admin, { action: "remove", reason: "Спам" });
  await api(base, "POST", `/api/v1/moderation/users/${await userId(base, spammer.token)}/sanctions`, admin, { action: "suspend", days: 7, reason: "Спам в комментариях" });
  await api(base, "POST", `/api/v1/moderation/users/${await userId(base, rude.token)}/sanctions`, admin, { action: "warn", reason: "Будьте вежливы" });
  const mod = await newUser(base, "модератор");
  await api(base, "PATCH", `/api/v1/admin/users/${await userId(base, mod.token)}`, admin, { role: "moderator" });
  await api(base, "PATCH", `/api/v1/admin/users/${await userId(base, author.token)}`, admin, { quota_bytes: 5 * 1024 ** 3 });
  // The worker works related videos out a moment after a video is listed.
  await eventually("related videos", async () => (await api<{ items: unknown[] }>(base, "GET", `/api/v1/videos/${studioIds[1]}/related`)).items.length > 2);

  for (const [size, viewport] of Object.entries(sizes)) {
    // In Russian, or in another language with its code before the name (ar-home-desktop.png).
    const snap = async (token: string | undefined, path: string, name: string, ready: (p: Page) => Promise<void>, lang = "ru") => {
      const ctx = await context(browser, base, token, viewport);
      await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
      const page = await ctx.newPage();
      const file = `${lang === "ru" ? "" : `${lang}-`}${name}-${size}.png`;
      await page.goto(path);
      await ready(page).catch(async (e: unknown) => {
        await page.screenshot({ path: join(ARTIFACTS, `failed-${file}`) });
        throw e;
      });
      await page.screenshot({ path: join(dir, file) });
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
    await snap(viewer, `/playlist/${lists[size]}`, "playlist", async (p) => {
      await p.waitForSelector("[data-testid=entry] img");
      await p.waitForLoadState("networkidle");
    });
    await snap(viewer, `/watch/${studioIds[1]}?list=${lists[size]}`, "watch-playlist", async (p) => {
      await p.waitForSelector("[data-testid=list-entry] [aria-current=true]");
      await p.waitForSelector("[data-testid=related] [data-testid=compact-card] img");
      await p.waitForSelector("video");
      await p.waitForLoadState("networkidle");
      // On a phone the list is under the video: in sight, under the title.
      if (size === "phone") {
        await p.evaluate(() => {
          const top = document.querySelector("[data-testid=watch-title]")!.getBoundingClientRect().top;
          scrollTo(0, scrollY + top - document.getElementById("top")!.offsetHeight - 8);
        });
      }
    });
    await snap(viewer, "/history", "history", async (p) => {
      await p.waitForSelector("[data-testid=history-row] img");
      await p.waitForLoadState("networkidle");
    });
    await snap(viewer, "/settings", "settings", async (p) => {
      await p.waitForSelector("[data-testid=session]");
      await p.waitForSelector("[data-testid=blocked]");
    });
    await snap(admin, "/admin/users", "admin-users", async (p) => {
      await p.waitForSelector("[data-testid=admin-user]");
    });
    await snap(admin, "/moderation/reports", "reports", async (p) => {
      await p.waitForSelector(`[data-testid=case][data-target-id="${insult.id}"]`);
      await p.click(`[data-testid=case][data-target-id="${insult.id}"] [data-testid=case-open]`);
      await p.waitForSelector(`[data-testid=case][data-target-id="${insult.id}"] [data-testid=report]`);
    });
    await snap(admin, "/moderation/log", "moderation-log", async (p) => {
      await p.waitForSelector("[data-testid=log-entry]");
    });

    // The Arabic interface, right to left: home, a video with an Arabic title playing, and the
    // channel (its Russian words as they are, isolated in the Arabic page).
    await snap(viewer, "/", "home", async (p) => {
      await p.waitForSelector("[data-testid=video-card] img");
      await p.waitForLoadState("networkidle");
    }, "ar");
    await snap(viewer, `/watch/${ids[2]}`, "watch", async (p) => {
      await p.click(".controls .play");
      await playsPast(p, 2);
      await p.evaluate(() => document.querySelector("video")!.pause());
      await p.hover(".seek");
    }, "ar");
    await snap(viewer, `/c/${handle}`, "channel", async (p) => {
      await p.waitForSelector("[data-testid=video-card] img");
      await p.waitForSelector(".channel-banner img");
      await p.waitForLoadState("networkidle");
    }, "ar");
  }
});

test.skipIf(!out)("screenshots of the owner's side of reach: share dialog, an embed in another page, the captions manager, captions in the player", async () => {
  const dir = resolve(ROOT, out!);
  mkdirSync(dir, { recursive: true });
  const owner = await newUser(base, "studio");
  const admin = await signIn(base, "admin", inject("adminPassword"));
  await verify(base, admin, owner.token);
  const id = await tusUpload(base, owner.token, CLIP, { title: "Big Buck Bunny: morning in the forest", description: "Blender Foundation, CC BY 3.0" });
  await waitVideo(base, owner.token, id, (v) => v.status === "ready" && v.moderation?.state !== "pending");
  const cues: [string, string, string][] = [
    ["en", "English", "Good morning, forest!"],
    ["ru", "Русский", "Доброе утро, лес!"],
    ["ar", "العربية", "صباح الخير أيتها الغابة!"],
  ];
  for (const [lang, label, text] of cues) {
    await putCaptions(base, owner.token, id, lang, `1\n00:00:01,000 --> 00:00:05,000\n${text}\n`, "application/x-subrip", label);
  }
  const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
  // English (no prefix) or Arabic (ar-…).
  const snap = async (size: keyof typeof sizes, lang: "en" | "ar", name: string, go: (p: Page) => Promise<void>) => {
    const ctx = await context(browser, base, owner.token, sizes[size]);
    await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
    const page = await ctx.newPage();
    const file = `${lang === "en" ? "" : `${lang}-`}${name}-${size}.png`;
    try {
      await go(page);
      await page.screenshot({ path: join(dir, file) });
    } catch (e) {
      await page.screenshot({ path: join(ARTIFACTS, `failed-${file}`) });
      throw e;
    } finally {
      await ctx.close();
    }
  };
  const pausedAt = async (p: Page, secs: number) => {
    await p.waitForSelector(".controls .play");
    await p.evaluate((s) => {
      const v = document.querySelector("video")!;
      v.pause();
      v.currentTime = s;
    }, secs);
    await p.waitForFunction(() => {
      const v = document.querySelector("video")!;
      return !v.seeking && v.readyState >= 2;
    });
  };
  const host = await serveHtml(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Forest news</title>` +
      `<style>body{font:17px/1.5 Georgia,serif;margin:0;background:#fbfaf7;color:#222}header{background:#234;color:#fff;padding:12px 20px;font:700 20px system-ui}` +
      `article{max-width:680px;margin:0 auto;padding:16px 20px}iframe{width:100%;aspect-ratio:16/9;height:auto;border:0;border-radius:6px}</style></head>` +
      `<body><header>Forest news</header><article><h1>A rabbit wakes up</h1><p>Morning in the forest: the big rabbit leaves his burrow and meets the butterflies.</p>` +
      `<iframe src="${base}/embed/${id}?t=2" title="Big Buck Bunny" allow="autoplay; encrypted-media; picture-in-picture; fullscreen" allowfullscreen></iframe>` +
      `<p>The film is by the Blender Foundation, under CC BY 3.0.</p></article></body></html>`,
  );
  try {
    for (const size of ["desktop", "phone"] as const) {
      for (const lang of ["en", "ar"] as const) {
        await snap(size, lang, "share", async (p) => {
          await p.goto(`/watch/${id}`);
          await pausedAt(p, 3);
          await p.click("[data-testid=share]");
          await p.check("[data-testid=share-at]");
          await p.waitForFunction(() => document.querySelector<HTMLImageElement>("[data-testid=share-still]")?.naturalWidth);
        });
        await snap(size, lang, "captions-manager", async (p) => {
          await openEditPage(p, id);
          await p.waitForSelector("[data-testid=caption-row] >> nth=2");
          await p.check("[data-testid=embed-some]");
          await p.fill("[data-testid=embed-origins]", "https://news.example.org");
          await p.evaluate(() => scrollTo(0, 0));
          await p.waitForLoadState("networkidle");
        });
        await snap(size, lang, "captions", async (p) => {
          await p.goto(`/watch/${id}`);
          await p.waitForSelector(".controls .captions-wrap:not([hidden])", { timeout: 30_000 });
          await p.click(".controls .ctl.captions");
          await p.click(`.captions-menu .menu-item[data-lang=${lang}]`);
          await pausedAt(p, 2.5);
          await eventually("a cue showing", async () =>
            p.evaluate(() => [...document.querySelector("video")!.textTracks].some((t) => t.mode === "showing" && (t.activeCues?.length ?? 0) > 0)),
          );
          await p.hover(".controls .play");
        });
      }
      await snap(size, "en", "embed", async (p) => {
        await p.goto(`http://localhost:${host.port}/`);
        const frame = await (await p.waitForSelector("iframe")).contentFrame();
        if (!frame) throw new Error("no frame");
        await frame.waitForSelector("video", { timeout: 30_000 });
        await frame.waitForFunction(() => (document.querySelector("video")?.readyState ?? 0) >= 2, undefined, { timeout: 30_000 });
      });
    }
  } finally {
    await host.close();
  }
});

test.skipIf(!out)("screenshots of the watch page's download menu, in English and Arabic", async () => {
  const dir = resolve(ROOT, out!);
  mkdirSync(dir, { recursive: true });
  const owner = await newUser(base, "files");
  const admin = await signIn(base, "admin", inject("adminPassword"));
  await verify(base, admin, owner.token);
  const id = await tusUpload(base, owner.token, CLIP, { title: "Big Buck Bunny: morning in the forest", description: "Blender Foundation, CC BY 3.0" });
  await waitVideo(base, owner.token, id, (v) => v.status === "ready" && v.moderation?.state !== "pending");
  await api(base, "PATCH", `/api/v1/videos/${id}`, owner.token, { downloadable: true });
  const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
  for (const size of ["desktop", "phone"] as const) {
    for (const lang of ["en", "ar"] as const) {
      // A viewer's page (signed out): the menu open on its first file.
      const ctx = await context(browser, base, undefined, sizes[size]);
      await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
      const page = await ctx.newPage();
      const file = `${lang === "en" ? "" : `${lang}-`}download-${size}.png`;
      try {
        await page.goto(`/watch/${id}`);
        await page.waitForSelector(".controls .play");
        await page.evaluate(() => document.querySelector("video")!.pause());
        const button = page.locator("[data-testid=download-button]");
        await button.scrollIntoViewIfNeeded();
        await button.focus();
        await page.keyboard.press("Enter");
        await page.waitForSelector("[data-testid=download] [role=menu]", { state: "visible" });
        await page.screenshot({ path: join(dir, file) });
      } catch (e) {
        await page.screenshot({ path: join(ARTIFACTS, `failed-${file}`) });
        throw e;
      } finally {
        await ctx.close();
      }
    }
  }
});

test.skipIf(!out)("screenshots of the poster picker on a video's details page, in English and Arabic", async () => {
  const dir = resolve(ROOT, out!);
  mkdirSync(dir, { recursive: true });
  const owner = await newUser(base, "covers");
  const admin = await signIn(base, "admin", inject("adminPassword"));
  await verify(base, admin, owner.token);
  const id = await tusUpload(base, owner.token, CLIP, { title: "Big Buck Bunny: morning in the forest", description: "Blender Foundation, CC BY 3.0" });
  await waitVideo(base, owner.token, id, (v) => v.status === "ready" && v.moderation?.state !== "pending");
  const sizes = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };
  for (const size of ["desktop", "phone"] as const) {
    for (const lang of ["en", "ar"] as const) {
      const ctx = await context(browser, base, owner.token, sizes[size]);
      await ctx.addInitScript((l) => localStorage.setItem("kadr.lang", l), lang);
      const page = await ctx.newPage();
      const file = `${lang === "en" ? "" : `${lang}-`}poster-picker-${size}.png`;
      try {
        // Back to automatic, then the third frame chosen by the keyboard (its focus and the
        // status line in the picture).
        await api(base, "DELETE", `/api/v1/videos/${id}/poster`, owner.token);
        await openEditPage(page, id);
        await page.waitForFunction(() => document.querySelectorAll("[data-testid=poster-frame]").length === 4);
        await eventually("the frames' pictures", () =>
          page.$$eval("[data-testid=poster-frames] img", (imgs) => imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0)),
        );
        await page.focus("[data-testid=edit-title]");
        await page.keyboard.press("Tab");
        await page.keyboard.press(lang === "ar" ? "ArrowLeft" : "ArrowRight");
        await page.keyboard.press(lang === "ar" ? "ArrowLeft" : "ArrowRight");
        await page.waitForFunction(() => (document.querySelector("[data-testid=poster-source]")?.textContent ?? "").includes("3"));
        await page.waitForFunction(() => (document.querySelector("[data-testid=poster-current]") as HTMLImageElement).complete);
        await page.locator("[data-testid=poster-manager]").evaluate((el) => el.scrollIntoView({ block: "start" }));
        // Clear of the header, which stays at the top (taller on a phone).
        await page.evaluate(() => scrollBy(0, -(document.getElementById("top")!.offsetHeight + 12)));
        await page.screenshot({ path: join(dir, file) });
      } catch (e) {
        await page.screenshot({ path: join(ARTIFACTS, `failed-${file}`) });
        throw e;
      } finally {
        await ctx.close();
      }
    }
  }
});
