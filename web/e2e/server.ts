// Global setup of the browser tests: `kadr all` on a free port with a throwaway data directory
// (its own Postgres cluster, media on local disk) serving the built UI from web/dist, and a
// real SMTP server (tests/mail/smtp_sink.py, aiosmtpd) that receives the mail kadr sends and
// writes each message into a directory the tests read.
import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    base: string;
    adminPassword: string;
    /** Where the SMTP server writes each message it receives (NNNNNN.eml). */
    mailDir: string;
  }
}

const ROOT = resolve(import.meta.dirname, "../..");
export const ADMIN_PASSWORD = "e2e-admin-password";
/** Variables read by the tests themselves (the binary, the built UI, where `make screenshots`
 * writes). */
const HARNESS_VARS = ["KADR_BIN", "KADR_WEB_DIST", "KADR_SCREENSHOTS"];

export default async function setup(project: TestProject) {
  const bin = process.env.KADR_BIN ?? join(ROOT, "target/debug/kadr");
  if (!existsSync(bin)) throw new Error(`no kadr binary at ${bin}: run cargo build first`);
  const web = process.env.KADR_WEB_DIST ?? join(ROOT, "web/dist");
  if (!existsSync(join(web, "index.html"))) throw new Error(`${web} is not built: run npm run build`);
  const dir = mkdtempSync(join(tmpdir(), "kadr-e2e-"));
  // Postgres runs as an unprivileged account when the tests run as root.
  chmodSync(dir, 0o755);
  // The tests' own settings are not kadr's: it refuses KADR_* variables it does not know.
  const env = { ...process.env };
  for (const name of HARNESS_VARS) delete env[name];
  const mailDir = join(dir, "mail");
  const smtp = await startSmtp(mailDir);
  const child: ChildProcess = spawn(bin, ["all", "--data-dir", join(dir, "var"), "--listen", "127.0.0.1:0"], {
    env: {
      ...env,
      KADR_ADMIN_PASSWORD: ADMIN_PASSWORD,
      KADR_API__WEB_DIR: web,
      // Small enough that a test can offer a file over it (see MAX_UPLOAD in helpers.ts).
      KADR_UPLOAD__MAX_SIZE_BYTES: String(64 * 1024 * 1024),
      // Every test makes its own accounts, all from 127.0.0.1.
      KADR_AUTH__REGISTER_MAX_PER_HOUR: "1000",
      KADR_MAIL__SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      // URL imports from a test's own HTTP server, named `localhost` (any other loopback
      // address, 127.0.0.1 included, stays refused: imports.e2e.ts asks for one).
      KADR_OUTBOUND__ALLOW: '["localhost"]',
    },
    stdio: ["ignore", "inherit", "pipe"],
  });
  let log = "";
  const base = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`kadr did not start:\n${log}`)), 120_000);
    child.stderr!.on("data", (chunk: Buffer) => {
      log += chunk.toString();
      const m = /listening on (http:\/\/[0-9.:]+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        ok(m[1]);
      }
      if (log.length > 1_000_000) log = log.slice(-100_000);
    });
    child.on("exit", (code) => fail(new Error(`kadr exited (${code}):\n${log}`)));
  }).catch(async (e: unknown) => {
    await stop(smtp.process, 5_000);
    throw e;
  });
  child.stderr!.on("data", (chunk: Buffer) => {
    if (process.env.TEST_LOG) process.stderr.write(chunk);
  });
  project.provide("base", base);
  project.provide("adminPassword", ADMIN_PASSWORD);
  project.provide("mailDir", mailDir);
  return async () => {
    await stop(child, 30_000);
    await stop(smtp.process, 5_000);
    rmSync(dir, { recursive: true, force: true });
  };
}

/** Stops `child` (SIGTERM, then SIGKILL after `ms`). */
function stop(child: ChildProcess, ms: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((ok) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      ok();
    }, ms);
    child.on("exit", () => {
      clearTimeout(timer);
      ok();
    });
    child.kill("SIGTERM");
  });
}

/** The test SMTP server on a free port (`make test-deps` makes its venv), writing to `dir`. */
async function startSmtp(dir: string): Promise<{ process: ChildProcess; port: number }> {
  const python = join(ROOT, "target/mail-venv/bin/python");
  if (!existsSync(python)) throw new Error(`no ${python}: run make test-deps`);
  const child = spawn(python, [join(ROOT, "tests/mail/smtp_sink.py"), dir], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  const port = await new Promise<number>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`the SMTP server did not start:\n${out}`)), 30_000);
    const hear = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    };
    child.stdout.on("data", hear);
    child.stderr.on("data", hear);
    child.on("exit", (code) => fail(new Error(`the SMTP server exited (${code}):\n${out}`)));
  });
  // Drained, so a chatty server never blocks on a full pipe.
  child.stdout.resume();
  child.stderr.on("data", (chunk: Buffer) => {
    if (process.env.TEST_LOG) process.stderr.write(chunk);
  });
  return { process: child, port };
}
