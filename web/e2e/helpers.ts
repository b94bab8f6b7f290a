// Shared steps of the browser tests: accounts and uploads through the API (with the official
// tus client), and a chromium launched the way this machine needs.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import * as tus from "tus-js-client";
import type { TokenJson, Video } from "../src/api";

export const ROOT = resolve(import.meta.dirname, "../..");
export const CLIP = resolve(ROOT, "../shared/media/bigbuckbunny.mp4");
export const ARTIFACTS = join(ROOT, "target/e2e");

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--autoplay-policy=no-user-gesture-required",
    ],
  });
}

export async function api<T>(base: string, method: string, path: string, token?: string, body?: unknown): Promise<T> {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? (undefined as T) : ((await res.json()) as T);
}

export async function signIn(base: string, username: string, password: string): Promise<string> {
  return (await api<TokenJson>(base, "POST", "/api/v1/auth/token", undefined, { username, password })).token;
}

let counter = 0;
/** A new user with a unique name; returns its name and token. */
export async function newUser(base: string, prefix: string): Promise<{ username: string; token: string }> {
  const username = `${prefix}${Date.now() % 100000}${counter++}`;
  const password = "correct horse battery";
  await api(base, "POST", "/api/v1/users", undefined, { username, email: `${username}@example.org`, password });
  return { username, token: await signIn(base, username, password) };
}

/** Uploads `file` with tus-js-client; resolves with the new video's id. */
export function tusUpload(base: string, token: string, file: string, meta: Record<string, string>): Promise<string> {
  const data = readFileSync(file);
  return new Promise((ok, fail) => {
    let video = "";
    const up = new tus.Upload(data, {
      endpoint: `${base}/api/v1/uploads`,
      headers: { authorization: `Bearer ${token}` },
      metadata: { filename: file.split("/").pop() ?? "clip.mp4", ...meta },
      onAfterResponse(_req, res) {
        video = res.getHeader("Kadr-Video-Id") || video;
      },
      onError: fail,
      onSuccess: () => ok(video),
    });
    up.start();
  });
}

/** What the tests read of a video (the API's VideoJson). */
export type VideoState = Pick<Video, "status" | "playable" | "is_short" | "moderation">;

/** Polls the video until `done` says so. */
export async function waitVideo(base: string, token: string, id: string, done: (v: VideoState) => boolean, ms = 150_000): Promise<VideoState> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await api<VideoState>(base, "GET", `/api/v1/videos/${id}`, token);
    if (done(v)) return v;
    if (v.status === "failed") throw new Error(`video ${id} failed: ${JSON.stringify(v)}`);
    if (Date.now() > until) throw new Error(`video ${id} stuck: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

/** A browser context signed in with `token` (or anonymous). */
export async function context(browser: Browser, base: string, token?: string, viewport = { width: 1280, height: 800 }): Promise<BrowserContext> {
  const ctx = await browser.newContext({ baseURL: base, viewport, locale: "en-US" });
  if (token) await ctx.addInitScript((t) => localStorage.setItem("kadr.token", t), token);
  return ctx;
}

/** Saves the page as an artifact of the test. */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** Waits until the page's first <video> has played past `secs` with a picture. */
export async function playsPast(page: Page, secs: number, root = "video"): Promise<void> {
  await page.waitForFunction(
    ([sel, s]) => {
      const v = document.querySelector<HTMLVideoElement>(sel as string);
      if (v && v.paused && v.readyState >= 2) void v.play().catch(() => {});
      return !!v && v.currentTime > (s as number) && v.videoWidth > 0;
    },
    [root, secs],
    { timeout: 60_000, polling: 250 },
  );
}

/** The server's upload limit (KADR_UPLOAD__MAX_SIZE_BYTES in server.ts). */
export const MAX_UPLOAD = 64 * 1024 * 1024;

/** A clip made with the ffmpeg CLI from lavfi `video` and a tone, `secs` long. */
function lavfiClip(dir: string, name: string, video: string, secs: number, codec: string[]): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  execFileSync("ffmpeg", [
    "-y", "-loglevel", "error",
    "-f", "lavfi", "-i", video,
    "-f", "lavfi", "-i", "sine=frequency=440",
    "-t", String(secs), "-c:v", "libx264", ...codec, "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", out,
  ]);
  return out;
}

/** A real video over 16 MiB (three seconds of lossless noise), so the upload page sends it in
 * two tus chunks. */
export function bigClip(dir: string): string {
  const noise = "nullsrc=s=640x480:r=15,geq=lum='random(1)*255':cb=128:cr=128";
  return lavfiClip(dir, "noise.mp4", noise, 3, ["-preset", "ultrafast", "-qp", "0"]);
}

/** A small landscape test clip (lavfi test pattern and tone), `secs` long: quick to transcode. */
export function testClip(dir: string, secs: number): string {
  return lavfiClip(dir, `test-${secs}s.mp4`, "testsrc2=size=320x180:rate=15", secs, ["-preset", "ultrafast"]);
}

/** A vertical test clip (lavfi test pattern and tone). */
export function verticalClip(dir: string): string {
  return lavfiClip(dir, "vertical.mp4", "testsrc2=size=360x640:rate=30", 6, []);
}

/** The signed-in user's id (GET /api/v1/me). */
export async function userId(base: string, token: string): Promise<string> {
  return (await api<{ id: string }>(base, "GET", "/api/v1/me", token)).id;
}

/** Marks the user of `token` verified (an admin's PATCH): their uploads skip moderation. */
export async function verify(base: string, admin: string, token: string): Promise<void> {
  await api(base, "PATCH", `/api/v1/admin/users/${await userId(base, token)}`, admin, { verified: true });
}

/** Uploads `file` as the user of `token` and waits until it is ready and listed (approved by
 * the admin when it waits for moderation); resolves with its id. */
export async function listedVideo(base: string, admin: string, token: string, file: string, meta: Record<string, string>): Promise<string> {
  const id = await tusUpload(base, token, file, meta);
  const v = await waitVideo(base, token, id, (v) => v.status === "ready");
  if (v.moderation?.state === "pending") await api(base, "POST", `/api/v1/moderation/videos/${id}/approve`, admin);
  return id;
}

/** A PNG picture made with the ffmpeg CLI (lavfi test pattern), `w`×`h`. */
export function picture(dir: string, name: string, w: number, h: number): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  execFileSync("ffmpeg", ["-y", "-loglevel", "error", "-f", "lavfi", "-i", `testsrc2=size=${w}x${h}`, "-frames:v", "1", out]);
  return out;
}

/** Calls `check` until it holds (a page reloaded between tries, when given), up to `ms`. */
export async function eventually(what: string, check: () => Promise<boolean>, ms = 30_000, between?: () => Promise<unknown>): Promise<void> {
  const until = Date.now() + ms;
  for (;;) {
    if (await check()) return;
    if (Date.now() > until) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 750));
    await between?.();
  }
}

/** A frame of `clip` at `secs` as a JPEG (the ffmpeg CLI), for channel pictures. */
export function frame(clip: string, dir: string, name: string, secs: number): string {
  mkdirSync(dir, { recursive: true });
  const out = join(dir, name);
  execFileSync("ffmpeg", ["-y", "-loglevel", "error", "-ss", String(secs), "-i", clip, "-frames:v", "1", "-q:v", "3", out]);
  return out;
}

/** Sets a channel's avatar or banner through the API (the file under its own type) and waits
 * until the worker has made it. */
export async function channelPicture(base: string, token: string, handle: string, kind: "avatar" | "banner", file: string, type: string): Promise<void> {
  const res = await fetch(`${base}/api/v1/channels/${encodeURIComponent(handle)}/pictures/${kind}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body: readFileSync(file),
  });
  if (res.status !== 202) throw new Error(`PUT ${kind}: ${res.status} ${await res.text()}`);
  await eventually(`the ${kind} of ${handle}`, async () => !!(await api<Record<string, unknown>>(base, "GET", `/api/v1/channels/${encodeURIComponent(handle)}`, token))[kind]);
}

/** The accessibility findings of axe-core (the standard engine, from node_modules) on the page
 * or on one of its frames, of impact "serious" or "critical", each with the elements it names. */
export async function axeSerious(target: Page | import("playwright-core").Frame): Promise<{ id: string; impact: string; help: string; nodes: string[] }[]> {
  const { createRequire } = await import("node:module");
  const source = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  await target.evaluate(source);
  return target.evaluate(async () => {
    type Result = { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] };
    const axe = (window as unknown as { axe: { run(ctx: Document): Promise<{ violations: Result[] }> } }).axe;
    const { violations } = await axe.run(document);
    return violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .map((v) => ({ id: v.id, impact: v.impact ?? "", help: v.help, nodes: v.nodes.map((n) => JSON.stringify(n.target)) }));
  });
}

/** An HTTP server on a free loopback port answering every request with `html`; resolves with
 * its port and the way to stop it. */
export async function serveHtml(html: string): Promise<{ port: number; close: () => Promise<void> }> {
  const { createServer } = await import("node:http");
  const server = createServer((_req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { port, close: () => new Promise<void>((ok) => server.close(() => ok())) };
}

/** Sends captions of `lang` for `video` through the API (`type` `text/vtt` or
 * `application/x-subrip`); resolves with the server's answer or throws with its problem. */
export async function putCaptions(base: string, token: string, video: string, lang: string, body: string, type = "text/vtt", label?: string): Promise<Record<string, unknown>> {
  const q = label ? `?label=${encodeURIComponent(label)}` : "";
  const res = await fetch(`${base}/api/v1/videos/${video}/captions/${encodeURIComponent(lang)}${q}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": type },
    body,
  });
  if (!res.ok) throw new Error(`PUT captions ${lang}: ${res.status} ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
}

/** Opens a video's details page (subtitles, sharing) the way an owner does: "My videos", then
 * the video's "Edit". */
export async function openEditPage(page: Page, video: string): Promise<void> {
  await page.goto("/me");
  await page.click(`[data-testid=mine-row][data-video-id="${video}"] [data-testid=edit]`);
  await page.waitForSelector("[data-testid=captions-manager] [data-testid=caption-form]");
}

/** Whether every picture matching `selector` has loaded, each `width` pixels wide. */
export async function picturesLoaded(page: Page, selector: string, width: number): Promise<boolean> {
  return page.$$eval(
    selector,
    (imgs, w) => imgs.length > 0 && imgs.every((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth === w),
    width,
  );
}
