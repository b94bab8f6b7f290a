// Webhooks in Debian's chromium against `kadr all`, which may send only to `localhost`
// (KADR_OUTBOUND__ALLOW in server.ts): the test's own HTTP receiver records every request and
// answers 200 or, when told, 500. From settings to the webhooks page; an endpoint added by the
// keyboard for two event types, its secret shown once (and copied); a test ping and a new
// video's events arrive signed with that secret (Kadr-Signature checked here with node:crypto,
// as the README says), and no other type; the log shows them delivered with 200. The receiver
// answers 500: the attempt is seen pending with its 500 and the endpoint failing; back to 200,
// Redeliver sends the event again as a new delivery, delivered. The secret rotated: the new one
// shown once, and a request carries signatures by both. Disabled (asked first), enabled again,
// deleted. A loopback address is refused in Russian and Arabic; a visitor is asked to sign in;
// administrators are offered every user's events; axe finds nothing serious.
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { api, ARTIFACTS, axeSerious, context, eventually, launch, newUser, shot, signIn, testClip, tusUpload, waitVideo } from "./helpers";

const base = inject("base");
let browser: Browser;
let admin: string;
let receiver: Server;
/** The receiver, by the one name the server may reach. */
let origin: string;
/** What the receiver answers. */
let status = 200;

interface Hit {
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What it answered. */
  status: number;
}
const hits: Hit[] = [];

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hits.push({ path: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks), status });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "down");
    });
  });
  await new Promise<void>((ok) => receiver.listen(0, "127.0.0.1", ok));
  const address = receiver.address();
  origin = `http://localhost:${typeof address === "object" && address ? address.port : 0}`;
});
afterAll(async () => {
  await browser?.close();
  await new Promise<void>((ok) => (receiver ? receiver.close(() => ok()) : ok()));
});

/** The `v1` signatures of a Kadr-Signature header that `secret` makes, and its time. */
function signedBy(secret: string, header: string, body: Buffer): { t: number; matches: number } {
  const parts = header.split(",").map((p) => p.split("=", 2) as [string, string]);
  const t = Number(parts.find(([k]) => k === "t")?.[1]);
  const mac = createHmac("sha256", secret).update(`${t}.`).update(body).digest();
  const matches = parts.filter(([k, v]) => k === "v1" && v.length === mac.length * 2 && timingSafeEqual(Buffer.from(v, "hex"), mac)).length;
  return { t, matches };
}

/** Whether `hit` is signed by `secret` within five minutes of now (the README's rule). */
function verified(hit: Hit, secret: string): boolean {
  const header = String(hit.headers["kadr-signature"] ?? "");
  const { t, matches } = signedBy(secret, header, hit.body);
  return matches > 0 && Math.abs(Date.now() / 1000 - t) <= 300;
}

/** The requests for endpoint path `path` of event type `type`. */
const heard = (path: string, type: string) => hits.filter((h) => h.path === path && h.headers["kadr-event-type"] === type);

/** Waits until the receiver has heard what `check` looks for. */
const arrives = (what: string, check: () => boolean, ms = 30_000) => eventually(what, () => Promise.resolve(check()), ms);

/** The webhooks page, reached as a user does: from settings. */
async function openWebhooks(page: Page): Promise<void> {
  await page.goto("/settings");
  await page.click("[data-testid=settings-webhooks-link]");
  await page.waitForSelector("[data-testid=webhook-add] form");
  expect(new URL(page.url()).pathname).toBe("/settings/webhooks");
}

/** The row of delivery `id` in the log. */
const row = (page: Page, id: string) => page.locator(`[data-testid=delivery][data-delivery-id="${id}"]`);

/** Waits until the row of delivery `id` is in `state`. */
async function rowState(page: Page, id: string, state: string, ms = 60_000): Promise<void> {
  await page.waitForFunction(([d, s]) => document.querySelector(`[data-testid=delivery][data-delivery-id="${d}"]`)?.getAttribute("data-state") === s, [id, state] as const, { timeout: ms, polling: 250 });
}

/** Answers the confirmation dialog that is open: yes. */
async function confirm(page: Page): Promise<void> {
  const dialog = page.locator("[data-testid=webhook-confirm]");
  await dialog.waitFor();
  // "No" has the focus: Enter at once does nothing harmful.
  expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("confirm-no");
  await dialog.locator("[data-testid=confirm-yes]").click();
  await dialog.waitFor({ state: "detached" });
}

test("the README's example signature checks out here", () => {
  const { matches } = signedBy("whsec_example", "t=1764669600,v1=cc2c9d0970bf03c4fa395fe7deb31d72188a24ce260cb8df10846b0959da4f1c", Buffer.from("{}"));
  expect(matches).toBe(1);
});

test("an endpoint added by the keyboard: its secret once, signed pings and video events, a failure redelivered, the secret rotated, disabled and enabled, deleted", async () => {
  const owner = await newUser(base, "hooker");
  const path = `/hooks/${owner.username}`;
  const ctx = await context(browser, base, owner.token);
  await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await ctx.newPage();
  try {
    await openWebhooks(page);
    expect(await page.textContent("h1")).toBe("Webhooks");
    await page.waitForSelector("[data-testid=webhook-empty]:not([hidden])");
    expect(await page.locator("[data-testid=webhook-all-users]").count()).toBe(0);

    // By the keyboard: the URL, a description, two event types instead of all, then "Add".
    const form = page.locator("[data-testid=webhook-add] form");
    await form.locator("[data-testid=webhook-url]").focus();
    await page.keyboard.type(`${origin}${path}`);
    await page.keyboard.press("Tab");
    await page.keyboard.type("Редакция CMS");
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("webhook-all-events");
    await page.keyboard.press("Space");
    expect(await form.locator("[data-testid=webhook-events]").isVisible()).toBe(true);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("webhook-event-video.created");
    await page.keyboard.press("Space");
    for (let i = 0; i < 30; i++) {
      await page.keyboard.press("Tab");
      const at = await page.evaluate(() => document.activeElement?.getAttribute("data-testid"));
      if (at === "webhook-event-video.ready") await page.keyboard.press("Space");
      if (at === "webhook-save") break;
    }
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("webhook-save");
    await shot(page, "webhooks-form");
    await page.keyboard.press("Enter");

    // Its secret, once, with the focus on it and a copy button.
    const card = page.locator("[data-testid=webhook]");
    await card.locator("[data-testid=webhook-secret]").waitFor();
    expect(await card.locator("[data-testid=webhook-secret-note]").textContent()).toBe("The endpoint is added. Copy its signing secret now: you won't see it again.");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("webhook-secret");
    const secret = await card.locator("[data-testid=webhook-secret]").inputValue();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(await card.locator("[data-testid=webhook-secret]").getAttribute("readonly")).not.toBeNull();
    await card.locator("[data-testid=webhook-secret-copy]").click();
    await page.waitForFunction(() => document.querySelector("[data-testid=webhook-secret-status]")?.textContent === "Copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(secret);
    const [made] = (await api<{ items: { id: string; url: string; events: string[]; description: string }[] }>(base, "GET", "/api/v1/webhooks", owner.token)).items;
    expect(made).toMatchObject({ url: `${origin}${path}`, events: ["video.created", "video.ready"], description: "Редакция CMS" });
    expect(await card.getAttribute("data-webhook-id")).toBe(made.id);
    expect(await card.locator("[data-testid=webhook-events-text]").textContent()).toBe("Events: video.created, video.ready");
    expect(await card.locator("[data-testid=webhook-state]").textContent()).toBe("Enabled");
    await card.locator("[data-testid=webhook-secret-done]").click();
    expect(await card.locator("[data-testid=webhook-secret]").count()).toBe(0);

    // A test ping: signed with the secret, delivered with 200 in the log.
    await card.locator("[data-testid=webhook-ping]").click();
    await arrives("the ping", () => heard(path, "ping").length === 1);
    const ping = heard(path, "ping")[0];
    expect(verified(ping, secret)).toBe(true);
    expect(verified(ping, "whsec_not-this-one")).toBe(false);
    const pingBody = JSON.parse(ping.body.toString()) as { id: string; type: string };
    expect(pingBody.type).toBe("ping");
    expect(ping.headers["kadr-event-id"]).toBe(pingBody.id);
    expect(ping.headers["content-type"]).toMatch(/^application\/json/);
    const pingDelivery = String(ping.headers["kadr-delivery-id"]);
    await rowState(page, pingDelivery, "delivered");
    expect(await row(page, pingDelivery).getAttribute("data-event-id")).toBe(pingBody.id);
    expect(await row(page, pingDelivery).locator("[data-testid=delivery-code]").textContent()).toBe("200");
    expect(await row(page, pingDelivery).locator("[data-testid=delivery-state]").textContent()).toBe("Delivered");
    expect(await row(page, pingDelivery).locator("[data-testid=delivery-attempts]").textContent()).toBe("1");
    expect(await row(page, pingDelivery).locator("[data-testid=delivery-duration]").textContent()).toMatch(/^\d+ ms$|^\d+(\.\d)? s$/);
    expect(await row(page, pingDelivery).locator("[data-testid=delivery-created] time").getAttribute("datetime")).toBeTruthy();
    await page.waitForFunction(() => document.querySelector("[data-testid=delivery-counts]")?.textContent === "Delivered: 1 · pending: 0 · failed: 0");

    // A new video: video.created and video.ready come, signed; the types not asked for do not.
    const clip = testClip(join(ARTIFACTS, "media"), 2);
    const video = await tusUpload(base, owner.token, clip, { title: "Webhook clip" });
    await waitVideo(base, owner.token, video, (v) => v.status === "ready");
    await arrives("video.created and video.ready", () => heard(path, "video.created").length === 1 && heard(path, "video.ready").length === 1, 60_000);
    for (const type of ["video.created", "video.ready"]) {
      const hit = heard(path, type)[0];
      expect(verified(hit, secret), type).toBe(true);
      const body = JSON.parse(hit.body.toString()) as { type: string; data: { video: { id: string; title: string } } };
      expect(body.type).toBe(type);
      expect(body.data.video).toMatchObject({ id: video, title: "Webhook clip" });
    }
    expect(heard(path, "upload.completed")).toHaveLength(0);
    expect(heard(path, "video.playable")).toHaveLength(0);
    // The log shows them once asked again.
    await card.locator("[data-testid=delivery-refresh]").click();
    for (const type of ["video.created", "video.ready"]) await rowState(page, String(heard(path, type)[0].headers["kadr-delivery-id"]), "delivered");
    expect(await page.$$eval("[data-testid=delivery] [data-testid=delivery-type]", (cells) => cells.map((c) => c.textContent))).toEqual(["video.ready", "video.created", "ping"]);
    await shot(page, "webhooks-log");
    expect(await axeSerious(page)).toEqual([]);
    await page.emulateMedia({ colorScheme: "dark" });
    expect(await axeSerious(page), "dark").toEqual([]);
    await page.emulateMedia({ colorScheme: "light" });

    // The receiver fails: the attempt is seen with its 500, and the endpoint as failing.
    status = 500;
    await card.locator("[data-testid=webhook-ping]").click();
    await arrives("the failed ping", () => heard(path, "ping").length === 2);
    const failed = heard(path, "ping")[1];
    expect(failed.status).toBe(500);
    const failedDelivery = String(failed.headers["kadr-delivery-id"]);
    await page.waitForFunction((d) => document.querySelector(`[data-testid=delivery][data-delivery-id="${d}"] [data-testid=delivery-code]`)?.textContent === "500", failedDelivery, { timeout: 60_000 });
    expect(await row(page, failedDelivery).getAttribute("data-state")).toBe("pending");
    expect(await row(page, failedDelivery).locator("[data-testid=delivery-error]").textContent()).toBe("the endpoint answered 500");
    expect(await row(page, failedDelivery).locator("[data-testid=delivery-state]").textContent()).toBe("Pending");
    await card.locator("[data-testid=webhook-failing]").waitFor();
    expect(await card.locator("[data-testid=webhook-failing]").textContent()).toMatch(/^Every attempt to reach it has failed since /);
    await shot(page, "webhooks-failing");

    // Back to 200: redelivered by hand, a new delivery of the same event at the top, delivered.
    status = 200;
    await row(page, failedDelivery).locator("[data-testid=delivery-redeliver]").click();
    await page.waitForFunction(
      (d) => {
        const top = document.querySelector("[data-testid=delivery]");
        return !!top && top.getAttribute("data-delivery-id") !== d && !!top.querySelector("[data-testid=delivery-redelivery]");
      },
      failedDelivery,
    );
    const again = (await page.locator("[data-testid=delivery]").first().getAttribute("data-delivery-id"))!;
    expect(await row(page, again).getAttribute("data-event-id")).toBe(failed.headers["kadr-event-id"]);
    expect(await card.locator("[data-testid=webhook-message]").textContent()).toBe("Sent again as a new delivery: it is at the top of the log.");
    await rowState(page, again, "delivered");
    expect(await row(page, again).locator("[data-testid=delivery-code]").textContent()).toBe("200");
    const redelivered = hits.find((h) => h.headers["kadr-delivery-id"] === again)!;
    expect(redelivered.headers["kadr-event-id"]).toBe(failed.headers["kadr-event-id"]);
    expect(verified(redelivered, secret)).toBe(true);
    // Answering again, it is not failing any more.
    await card.locator("[data-testid=webhook-failing]").waitFor({ state: "detached", timeout: 60_000 });

    // The secret rotated (asked first): the new one once; the previous one signs too for a while.
    await card.locator("[data-testid=webhook-rotate]").click();
    await confirm(page);
    await card.locator("[data-testid=webhook-secret]").waitFor();
    expect(await card.locator("[data-testid=webhook-secret-note]").textContent()).toBe("A new signing secret is made. Copy it now: you won't see it again.");
    const rotated = await card.locator("[data-testid=webhook-secret]").inputValue();
    expect(rotated).toMatch(/^whsec_/);
    expect(rotated).not.toBe(secret);
    expect(await card.locator("[data-testid=webhook-previous]").textContent()).toMatch(/^After the rotation, the previous secret also signs until /);
    // A new ping is a new event (the failed one's retries keep its id).
    const known = new Set(heard(path, "ping").map((h) => h.headers["kadr-event-id"]));
    const newPing = () => heard(path, "ping").find((h) => !known.has(h.headers["kadr-event-id"]));
    await card.locator("[data-testid=webhook-ping]").click();
    await arrives("the ping after the rotation", () => !!newPing());
    const afterRotation = newPing()!;
    expect(verified(afterRotation, rotated)).toBe(true);
    expect(verified(afterRotation, secret)).toBe(true);
    expect(String(afterRotation.headers["kadr-signature"]).match(/v1=/g)).toHaveLength(2);

    // Disabled (asked first): said so, no ping; enabled again.
    await card.locator("[data-testid=webhook-disable]").click();
    await confirm(page);
    await card.locator("[data-testid=webhook-disabled]").waitFor();
    expect(await card.getAttribute("data-enabled")).toBe("false");
    expect(await card.locator("[data-testid=webhook-state]").textContent()).toBe("Disabled");
    expect(await card.locator("[data-testid=webhook-disabled]").getAttribute("data-cause")).toBe("owner");
    expect(await card.locator("[data-testid=webhook-disabled] strong").textContent()).toBe("You disabled this endpoint: nothing is sent to it.");
    expect(await card.locator("[data-testid=webhook-ping]").isDisabled()).toBe(true);
    expect(await card.locator("[data-testid=delivery-redeliver]").first().isDisabled()).toBe(true);
    expect((await api<{ enabled: boolean }>(base, "GET", `/api/v1/webhooks/${made.id}`, owner.token)).enabled).toBe(false);
    await shot(page, "webhooks-disabled");
    expect(await axeSerious(page)).toEqual([]);
    await card.locator("[data-testid=webhook-enable]").click();
    await card.locator("[data-testid=webhook-disabled]").waitFor({ state: "detached" });
    expect(await card.getAttribute("data-enabled")).toBe("true");
    expect(await card.locator("[data-testid=webhook-message]").textContent()).toBe("The endpoint is enabled again.");
    expect(await card.locator("[data-testid=webhook-ping]").isEnabled()).toBe(true);

    // Deleted (asked first).
    await card.locator("[data-testid=webhook-delete]").click();
    await confirm(page);
    await card.waitFor({ state: "detached" });
    expect(await page.textContent("[data-testid=webhook-page-status]")).toBe(`The endpoint ${origin}${path} is deleted.`);
    expect(await page.isVisible("[data-testid=webhook-empty]")).toBe(true);
    expect((await api<{ items: unknown[] }>(base, "GET", "/api/v1/webhooks", owner.token)).items).toEqual([]);
  } finally {
    await ctx.close();
  }
});

test("a loopback address refused in words, in Russian and Arabic; a visitor asked to sign in; administrators offered every user's events", async () => {
  const refused = "http://127.0.0.1:1/";
  const someone = await newUser(base, "hookless");
  const ctx = await context(browser, base, someone.token);
  const page = await ctx.newPage();
  const add = async () => {
    const form = page.locator("[data-testid=webhook-add] form");
    await form.locator("[data-testid=webhook-url]").fill(refused);
    await form.locator("[data-testid=webhook-save]").click();
    await page.waitForFunction(() => !!document.querySelector("[data-testid=webhook-add] [data-testid=webhook-form-message]:not([hidden])")?.textContent);
    return form;
  };
  try {
    await openWebhooks(page);
    let form = await add();
    expect(await form.locator("[data-testid=webhook-form-message]").textContent()).toBe(
      "Webhooks cannot be sent to this address: only http and https addresses on the public Internet, or hosts the administrator allows.",
    );
    expect(await form.locator("[data-testid=webhook-url]").getAttribute("aria-invalid")).toBe("true");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("webhook-url");

    await page.selectOption("[data-testid=lang]", "ru");
    await page.waitForFunction(() => document.querySelector("h1")?.textContent === "Веб-хуки");
    form = await add();
    expect(await form.locator("[data-testid=webhook-form-message]").textContent()).toBe(
      "На этот адрес веб-хуки отправлять нельзя: только адреса http и https в открытом интернете или узлы, разрешённые администратором.",
    );

    await page.selectOption("[data-testid=lang]", "ar");
    await page.waitForFunction(() => document.documentElement.dir === "rtl" && document.querySelector("h1")?.textContent === "الويب هوك");
    form = await add();
    expect(await form.locator("[data-testid=webhook-form-message]").textContent()).toMatch(/^لا يمكن إرسال الويب هوك إلى هذا العنوان/);
    // The address itself still reads left to right.
    expect(await form.locator("[data-testid=webhook-url]").evaluate((el) => getComputedStyle(el).direction)).toBe("ltr");
    await shot(page, "webhooks-refused-ar");
    expect(await axeSerious(page)).toEqual([]);
    expect((await api<{ items: unknown[] }>(base, "GET", "/api/v1/webhooks", someone.token)).items).toEqual([]);
    // The account keeps the language it was switched to: English again.
    await page.selectOption("[data-testid=lang]", "en");
    await page.waitForFunction(() => document.documentElement.dir === "ltr" && document.querySelector("h1")?.textContent === "Webhooks");
  } finally {
    await ctx.close();
  }

  // A visitor: a link to sign in and come back.
  const anon = await context(browser, base);
  const visitor = await anon.newPage();
  try {
    // Loaded directly (a bookmark): the server knows the page's route.
    const answer = await visitor.goto("/settings/webhooks");
    expect(answer?.status()).toBe(200);
    await visitor.waitForSelector("[data-testid=webhook-signin]");
    expect(await visitor.getAttribute("[data-testid=webhook-signin]", "href")).toBe("/login?next=/settings/webhooks");
  } finally {
    await anon.close();
  }

  // An administrator may make an endpoint that hears every user's events.
  const adminCtx = await context(browser, base, admin);
  const adminPage = await adminCtx.newPage();
  try {
    await openWebhooks(adminPage);
    expect(await adminPage.locator("[data-testid=webhook-add] [data-testid=webhook-all-users]").count()).toBe(1);
  } finally {
    await adminCtx.close();
  }
});
