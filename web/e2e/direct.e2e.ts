// Direct uploads in chromium: a `kadr all` of its own on SeaweedFS (tests/s3/seaweed.sh, from
// `make test-deps`) with direct uploads offered. The upload page sends a three-part file
// straight to the bucket (PUTs to the S3 origin, no tus PATCH to Kadr); the third part is held,
// the page reloaded, the file picked again, and only that part is sent before completion; the
// video then becomes ready.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Request } from "playwright-core";
import { afterAll, beforeAll, expect, test } from "vitest";
import { api, ARTIFACTS, context, launch, newUser, ROOT, shot, waitVideo } from "./helpers";

const MIB = 1024 * 1024;
const ADMIN_PASSWORD = "e2e-direct-admin-password";
const WEED = join(ROOT, "target/seaweed-venv/bin/weed");
const SEAWEED = join(ROOT, "tests/s3/seaweed.sh");

let dir = "";
let kadr: ChildProcess | null = null;
let base = "";
let s3 = "";
let browser: Browser;

beforeAll(async () => {
  if (!existsSync(WEED)) throw new Error(`no SeaweedFS at ${WEED}: run make test-deps`);
  const bin = process.env.KADR_BIN ?? join(ROOT, "target/debug/kadr");
  dir = mkdtempSync(join(tmpdir(), "kadr-e2e-direct-"));
  // Postgres runs as an unprivileged account when the tests run as root.
  chmodSync(dir, 0o755);
  execFileSync(SEAWEED, ["start", join(dir, "s3")], { stdio: ["ignore", "pipe", "inherit"] });
  const env = Object.fromEntries(
    readFileSync(join(dir, "s3/env"), "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
  s3 = env.KADR_TEST_S3_ENDPOINT;
  // kadr refuses KADR_* variables it does not know: the harness's own are left out.
  const harness = ["KADR_BIN", "KADR_SCREENSHOTS", "KADR_WEB_DIST"];
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !harness.includes(k)));
  kadr = spawn(bin, ["all", "--data-dir", join(dir, "var"), "--listen", "127.0.0.1:0"], {
    env: {
      ...inherited,
      KADR_ADMIN_PASSWORD: ADMIN_PASSWORD,
      KADR_API__WEB_DIR: process.env.KADR_WEB_DIST ?? join(ROOT, "web/dist"),
      KADR_AUTH__REGISTER_MAX_PER_HOUR: "1000",
      KADR_STORAGE__BACKEND: "s3",
      KADR_STORAGE__S3__ENDPOINT: s3,
      KADR_STORAGE__S3__BUCKET: env.KADR_TEST_S3_BUCKET,
      KADR_STORAGE__S3__ACCESS_KEY_ID: env.KADR_TEST_S3_ACCESS_KEY_ID,
      KADR_STORAGE__S3__SECRET_ACCESS_KEY: env.KADR_TEST_S3_SECRET_ACCESS_KEY,
      KADR_STORAGE__S3__PATH_STYLE: "true",
      KADR_STORAGE__S3__PART_SIZE_MIB: "5",
    },
    stdio: ["ignore", "inherit", "pipe"],
  });
  const child = kadr;
  let log = "";
  base = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`kadr did not start:\n${log}`)), 90_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      if (process.env.TEST_LOG) process.stderr.write(chunk);
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
      if (log.length > 1_000_000) log = log.slice(-100_000);
    });
    child.on("exit", (code) => fail(new Error(`kadr exited (${code}):\n${log}`)));
  });
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  const child = kadr;
  if (child && child.exitCode === null && child.signalCode === null) {
    await new Promise<void>((ok) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        ok();
      }, 30_000);
      child.on("exit", () => {
        clearTimeout(timer);
        ok();
      });
      child.kill("SIGTERM");
    });
  }
  if (dir) {
    execFileSync(SEAWEED, ["stop", join(dir, "s3")], { stdio: "inherit" });
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A real video a bit over 10 MiB (noise keeps the encoder from making it small): three
 * parts of 5 MiB. */
function clip(): string {
  const out = join(ARTIFACTS, "media", "direct.mp4");
  mkdirSync(join(ARTIFACTS, "media"), { recursive: true });
  execFileSync("ffmpeg", [
    "-y", "-loglevel", "error",
    "-f", "lavfi", "-i", "testsrc2=size=640x360:rate=25,noise=alls=40:allf=t",
    "-t", "6", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
    "-b:v", "18M", "-maxrate", "18M", "-bufsize", "4M", out,
  ]);
  return out;
}

const partOf = (url: string) => Number(new URL(url).searchParams.get("partNumber"));

test("the upload page sends the file straight to storage, and after a reload only the parts it lacks", async () => {
  const features = await api<{ direct_upload: boolean }>(base, "GET", "/api/v1/features");
  expect(features.direct_upload).toBe(true);
  const file = clip();
  const size = statSync(file).size;
  expect(size).toBeGreaterThan(10 * MIB);
  expect(size).toBeLessThanOrEqual(15 * MIB);
  const user = await newUser(base, "direct");
  const ctx = await context(browser, base, user.token);
  const page = await ctx.newPage();
  const requests: Request[] = [];
  page.on("request", (r) => requests.push(r));
  const stored: number[] = [];
  page.on("response", (r) => {
    const req = r.request();
    if (req.method() === "PUT" && req.url().startsWith(s3) && r.ok()) stored.push(partOf(req.url()));
  });
  const toStorage = (from: Request[]) => from.filter((r) => r.method() === "PUT" && r.url().startsWith(`${s3}/`));
  const toKadr = (from: Request[]) => from.filter((r) => r.url().startsWith(`${base}/api/`));
  try {
    // The third part is held on its way: it never reaches storage.
    await page.route(`${s3}/**`, async (route) => {
      const r = route.request();
      if (r.method() === "PUT" && partOf(r.url()) === 3) return;
      await route.continue();
    });
    await page.goto("/upload");
    await page.setInputFiles("[data-testid=file]", file);
    await page.fill("[data-testid=title]", "Прямо в хранилище");
    await page.click("[data-testid=start]");
    await expect.poll(() => [...stored].sort(), { timeout: 30_000 }).toEqual([1, 2]);
    await expect.poll(() => toStorage(requests).map((r) => partOf(r.url())).sort()).toEqual([1, 2, 3]);
    const first = [...requests];
    // Straight to the S3 origin, without Kadr's token; no tus upload.
    for (const r of toStorage(first)) {
      expect(r.url()).toContain("X-Amz-Signature=");
      expect(await r.allHeaders()).not.toHaveProperty("authorization");
    }
    const kadrCalls = toKadr(first).map((r) => `${r.method()} ${new URL(r.url()).pathname}`);
    expect(kadrCalls).toContain("POST /api/v1/direct-uploads");
    expect(kadrCalls.filter((c) => c.startsWith("PATCH /api/v1/uploads") || c === "POST /api/v1/uploads")).toEqual([]);
    const created = first.find((r) => r.method() === "POST" && r.url() === `${base}/api/v1/direct-uploads`);
    const up = (await (await created!.response())!.json()) as { id: string; video_id: string; part_count: number };
    expect(up.part_count).toBe(3);
    await expect.poll(() => page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("kadr.direct::")).length)).toBe(1);
    await page.waitForSelector("[data-testid=cancel]:visible");
    await shot(page, "direct-upload-held");

    // The reload cancels the held request; only then is the route lifted.
    await page.reload();
    await page.unrouteAll({ behavior: "ignoreErrors" });
    requests.length = 0;
    stored.length = 0;
    await page.setInputFiles("[data-testid=file]", file);
    await page.waitForSelector("[data-testid=upload-info]:has-text('Part of this file was uploaded earlier')");
    expect(await page.inputValue("[data-testid=title]")).toBe("Прямо в хранилище");
    await page.click("[data-testid=start]");
    await page.waitForSelector("[data-testid=watch-link]", { timeout: 60_000 });
    expect(await page.getAttribute("[data-testid=watch-link]", "href")).toBe(`/watch/${up.video_id}`);

    // Only the held part went, to storage; the same upload was asked about and completed.
    expect(toStorage(requests).map((r) => partOf(r.url()))).toEqual([3]);
    expect(stored).toEqual([3]);
    const again = toKadr(requests).map((r) => `${r.method()} ${new URL(r.url()).pathname}`);
    expect(again).toContain(`GET /api/v1/direct-uploads/${up.id}`);
    expect(again).toContain(`POST /api/v1/direct-uploads/${up.id}/complete`);
    expect(again).not.toContain("POST /api/v1/direct-uploads");
    expect(again.filter((c) => c.startsWith("PATCH /api/v1/uploads") || c === "POST /api/v1/uploads")).toEqual([]);
    expect(await page.evaluate(() => Object.keys(localStorage).filter((k) => k.startsWith("kadr.direct::")).length)).toBe(0);

    const v = await waitVideo(base, user.token, up.video_id, (v) => v.status === "ready", 60_000);
    expect(v.playable).toBe(true);
    await page.waitForSelector("[data-testid=video-state]:has-text('Ready')", { timeout: 10_000 });
    const video = await api<{ title: string; size_bytes: number }>(base, "GET", `/api/v1/videos/${up.video_id}`, user.token);
    expect(video.title).toBe("Прямо в хранилище");
    expect(video.size_bytes).toBe(size);
  } finally {
    await shot(page, "direct-upload");
    await ctx.close();
  }
});
