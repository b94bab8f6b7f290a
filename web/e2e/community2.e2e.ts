// Community, part 2 in the browser (Debian's chromium against `kadr all`, see server.ts):
// a playlist made from the watch page's "Save" dialog, reordered by dragging and with the
// up/down buttons, played in order (each next entry starting when one ends); the position
// saved while watching and resumed after a reload; a comment reported, removed by a moderator
// from the reports queue, and the reporter told; a forgotten password reset, and an address
// confirmed, through mail read from a real SMTP server; a channel's owner blocked and unblocked
// in settings; a user marked verified and suspended from the administrators' page, their
// sign-in refused in words.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { api, ARTIFACTS, context, eventually, launch, listedVideo, newUser, playsPast, shot, signIn, testClip, verify } from "./helpers";

const base = inject("base");
const mailDir = inject("mailDir");
let browser: Browser;
let admin: string;

beforeAll(async () => {
  browser = await launch();
  admin = await signIn(base, "admin", inject("adminPassword"));
});
afterAll(async () => {
  await browser?.close();
});

const suffix = () => `${Date.now() % 1_000_000}`;
const media = join(ARTIFACTS, "media");

/** Fails the test on page errors (dialogs are accepted: confirmations). */
function guard(page: Page): string[] {
  const errors: string[] = [];
  page.on("dialog", (d) => void d.accept());
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

/** A verified uploader's videos, listed, one per title. */
async function videos(titles: string[], secs: number): Promise<{ token: string; ids: string[] }> {
  const owner = await newUser(base, "maker");
  await verify(base, admin, owner.token);
  const clip = testClip(media, secs);
  const ids = await Promise.all(titles.map((title) => listedVideo(base, admin, owner.token, clip, { title })));
  return { token: owner.token, ids };
}

/** The entries of a playlist in order, by the API. */
async function order(id: string, token: string): Promise<string[]> {
  return (await api<{ items: { id: string }[] }>(base, "GET", `/api/v1/playlists/${id}/videos`, token)).items.map((v) => v.id);
}

test("a playlist: saved to from the watch page, reordered by dragging and by buttons, played in order", async () => {
  const titles = ["Первый", "Второй", "Третий"].map((x) => `${x} ${suffix()}`);
  const { ids } = await videos(titles, 3);
  const [a, b, c] = ids;
  const viewer = await newUser(base, "lister");
  const ctx = await context(browser, base, viewer.token);
  const page = await ctx.newPage();
  const errors = guard(page);
  try {
    // A new playlist from the first video's "Save" dialog; Watch later is there, first.
    await page.goto(`/watch/${a}`);
    await page.click("[data-testid=save]");
    await page.waitForSelector("[data-testid=save-dialog] [data-testid=save-option]");
    expect(await page.textContent("[data-testid=save-option]:first-child .save-name")).toBe("Watch later");
    await page.click("[data-testid=save-option]:first-child [data-testid=save-check]");
    await page.click("[data-testid=new-playlist]");
    const name = `Мой плейлист ${suffix()}`;
    await page.fill("[data-testid=new-playlist-title]", name);
    await page.click("[data-testid=new-playlist-create]");
    const made = `[data-testid=save-option]:has(.save-name:text-is("${name}"))`;
    await page.waitForSelector(`${made} [data-testid=save-check]:checked`);
    await shot(page, "community2-save-dialog");
    const list = (await page.getAttribute(made, "data-playlist-id"))!;
    await page.click("[data-testid=dialog-close]");
    await page.waitForSelector("[data-testid=save-dialog]", { state: "detached" });
    const later = await api<{ id: string }>(base, "GET", "/api/v1/me/watch-later", viewer.token);
    await eventually("Watch later holds the video", async () => (await order(later.id, viewer.token)).includes(a));

    // The other two, ticked in the dialog (it shows where each video already is).
    for (const id of [b, c]) {
      await page.goto(`/watch/${id}`);
      await page.click("[data-testid=save]");
      await page.waitForSelector(`${made} [data-testid=save-check]:not(:checked)`);
      await page.click(`${made} [data-testid=save-check]`);
      await page.waitForSelector(`${made} [data-testid=save-check]:checked:enabled`);
      await page.keyboard.press("Escape");
      await page.waitForSelector("[data-testid=save-dialog]", { state: "detached" });
    }
    expect(await order(list, viewer.token)).toEqual([a, b, c]);

    // My playlists lead to its page, in the order added.
    await page.goto("/playlists");
    await page.click(`[data-testid=playlist-card][data-playlist-id="${list}"] .card-title`);
    await page.waitForURL(`**/playlist/${list}`);
    expect(await page.textContent("[data-testid=playlist-title]")).toBe(name);
    const shown = () => page.$$eval("[data-testid=entry]", (els) => els.map((e) => (e as HTMLElement).dataset.videoId));
    await page.waitForSelector("[data-testid=entry]");
    expect(await shown()).toEqual([a, b, c]);

    // The third dragged above the first: shown at once, kept by the server.
    const entry = (id: string) => `[data-testid=entry][data-video-id="${id}"]`;
    await page.dragAndDrop(entry(c), entry(a), { targetPosition: { x: 40, y: 4 } });
    await page.waitForFunction(([x, y, z]) => [...document.querySelectorAll<HTMLElement>("[data-testid=entry]")].map((e) => e.dataset.videoId).join() === [x, y, z].join(), [c, a, b]);
    await eventually("the drag kept", async () => (await order(list, viewer.token)).join() === [c, a, b].join());
    // The first (now second) one down with its button: C, B, A.
    await page.click(`${entry(a)} [data-testid=entry-down]`);
    await page.waitForFunction(([x, y, z]) => [...document.querySelectorAll<HTMLElement>("[data-testid=entry]")].map((e) => e.dataset.videoId).join() === [x, y, z].join(), [c, b, a]);
    await eventually("the move kept", async () => (await order(list, viewer.token)).join() === [c, b, a].join());
    await page.reload();
    await page.waitForSelector("[data-testid=entry]");
    expect(await shown()).toEqual([c, b, a]);

    // Play all: the side list marks the one playing; each next one starts when one ends.
    await page.click("[data-testid=play-all]");
    await page.waitForURL(`**/watch/${c}?list=${list}`);
    await page.waitForSelector(`[data-testid=list-entry][data-video-id="${c}"] [aria-current=true]`);
    expect(await page.$$eval("[data-testid=list-entry]", (els) => els.map((e) => (e as HTMLElement).dataset.videoId))).toEqual([c, b, a]);
    for (const next of [b, a]) {
      await page.waitForURL(`**/watch/${next}?list=${list}`, { timeout: 60_000 });
      await page.waitForSelector(`[data-testid=list-entry][data-video-id="${next}"] [aria-current=true]`);
      // It plays by itself.
      await page.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) > 0.5, undefined, { timeout: 30_000 });
    }
    expect(await page.textContent("[data-testid=watch-title]")).toBe(titles[0]);
    expect(errors).toEqual([]);
  } finally {
    await shot(page, "community2-playlist");
    await ctx.close();
  }
});

test("the position is saved while watching and resumed after a reload; history and Continue watching show it", async () => {
  const title = `Долгое видео ${suffix()}`;
  const { ids } = await videos([title], 30);
  const [id] = ids;
  const viewer = await newUser(base, "resumer");
  const ctx = await context(browser, base, viewer.token);
  const page = await ctx.newPage();
  const errors = guard(page);
  try {
    await page.goto(`/watch/${id}`);
    await page.click(".controls .play");
    await playsPast(page, 7);
    await page.evaluate(() => document.querySelector("video")!.pause());
    const at = await page.evaluate(() => document.querySelector("video")!.currentTime);
    await eventually("the position saved", async () => {
      const p = await api<{ position_ms: number | null }>(base, "GET", `/api/v1/videos/${id}/position`, viewer.token);
      return p.position_ms !== null && Math.abs(p.position_ms / 1000 - at) < 1;
    });
    await page.reload();
    await page.waitForFunction((s) => {
      const v = document.querySelector("video");
      return !!v && v.readyState >= 1 && Math.abs(v.currentTime - s) < 1.5;
    }, at, { timeout: 30_000 });

    // Played on and left by another page of the app: saved on the way out.
    await page.click(".controls .play");
    await playsPast(page, at + 2);
    const before = await page.evaluate(() => document.querySelector("video")!.currentTime);
    await page.click("a.logo");
    await page.waitForURL(`${base}/`);
    await eventually("the position saved on leaving", async () => {
      const p = await api<{ position_ms: number | null }>(base, "GET", `/api/v1/videos/${id}/position`, viewer.token);
      return p.position_ms !== null && p.position_ms / 1000 >= before - 0.5;
    });

    // Home: Continue watching, with how much of it was watched.
    await page.reload();
    await page.waitForSelector(`[data-testid=continue-row] [data-video-id="${id}"] [data-testid=watched]`);
    // History: the entry, removed.
    await page.goto("/history");
    const row = `[data-testid=history-row][data-video-id="${id}"]`;
    await page.waitForSelector(`${row} [data-testid=watched]`);
    const width = await page.$eval(`${row} .watched-part`, (el) => parseFloat((el as HTMLElement).style.width));
    expect(width).toBeGreaterThan(20);
    await page.click(`${row} [data-testid=history-remove]`);
    await page.waitForSelector(row, { state: "detached" });
    expect((await api<{ items: unknown[] }>(base, "GET", "/api/v1/me/history", viewer.token)).items).toEqual([]);
    // Paused: nothing is kept.
    await page.click("[data-testid=history-pause]");
    await page.waitForSelector("[data-testid=history-pause][aria-pressed=true]");
    expect((await api<{ history_paused: boolean }>(base, "GET", "/api/v1/me", viewer.token)).history_paused).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await shot(page, "community2-history");
    await ctx.close();
  }
});

test("a reported comment is removed by a moderator from the reports queue; the reporter is told", async () => {
  const { token: owner, ids } = await videos([`Обсуждение ${suffix()}`], 3);
  const [id] = ids;
  void owner;
  const troll = await newUser(base, "troll");
  const rude = `Грубость ${suffix()}`;
  const bad = await api<{ id: string }>(base, "POST", `/api/v1/videos/${id}/comments`, troll.token, { body: rude });
  const reporter = await newUser(base, "reporter");
  const rctx = await context(browser, base, reporter.token);
  const r = await rctx.newPage();
  const rErrors = guard(r);
  const mctx = await context(browser, base, admin);
  const m = await mctx.newPage();
  const mErrors = guard(m);
  try {
    // The reporter opens the comment's menu and reports it.
    await r.goto(`/watch/${id}`);
    const c = `[data-testid=comment][data-comment-id="${bad.id}"]`;
    await r.waitForSelector(c);
    await r.click(`${c} [data-testid=comment-menu] summary`);
    await r.click(`${c} [data-testid=comment-report]`);
    await r.waitForSelector("[data-testid=report-dialog]");
    await r.check("[data-testid=reason-harassment]");
    await r.fill("[data-testid=report-details]", "Оскорбляет других зрителей");
    await shot(r, "community2-report-dialog");
    await r.click("[data-testid=report-send]");
    await r.waitForSelector("[data-testid=report-done]");
    await r.click("[data-testid=dialog-close]");
    // Twice is refused, in words.
    await r.click(`${c} [data-testid=comment-menu] summary`);
    await r.click(`${c} [data-testid=comment-report]`);
    await r.check("[data-testid=reason-spam]");
    await r.click("[data-testid=report-send]");
    await r.waitForSelector("[data-testid=report-error]:visible");
    expect(await r.textContent("[data-testid=report-error]")).toBe("You have already reported this; moderators will look at it.");
    await r.keyboard.press("Escape");

    // The moderator finds the case in the queue (from the moderation page's tabs), reads the
    // report and removes the comment.
    await m.goto("/moderation");
    await m.click("[data-testid=mod-tab-reports]");
    await m.waitForURL("**/moderation/reports");
    const kase = `[data-testid=case][data-target-id="${bad.id}"]`;
    await m.waitForSelector(kase);
    expect(await m.textContent(`${kase} [data-testid=case-summary]`)).toBe(rude);
    expect(await m.textContent(`${kase} [data-testid=case-count]`)).toBe("1 report");
    await m.click(`${kase} [data-testid=case-open]`);
    await m.waitForSelector(`${kase} [data-testid=report]:has-text("Оскорбляет других зрителей")`);
    await m.selectOption(`${kase} [data-testid=decision-action]`, "remove");
    await m.fill(`${kase} [data-testid=decision-reason]`, "Оскорбления");
    await m.click(`${kase} [data-testid=decision-apply]`);
    await m.waitForSelector(`${kase} [data-testid=case-done]`);
    const comments = await api<{ items: { id: string }[] }>(base, "GET", `/api/v1/videos/${id}/comments`);
    expect(comments.items.map((x) => x.id)).not.toContain(bad.id);
    // The record has it.
    await m.click("[data-testid=mod-tab-log]");
    await m.waitForSelector("[data-testid=log-entry][data-action=remove] [data-testid=log-reason]:text-is('Оскорбления')");

    // The reporter is told.
    const told = "[data-testid=notification][data-type=report_resolved]";
    await r.goto("/notifications");
    await eventually(
      "the reporter's notification",
      async () => {
        // The list drawn (an item, or the words for none) before it is looked at.
        await r.waitForSelector("[data-testid=notification], .notif-page .list-status:not(:empty)");
        return (await r.$(told)) !== null;
      },
      60_000,
      () => r.reload(),
    );
    expect(await r.textContent(`${told} [data-testid=notif-text]`)).toBe("Thanks to your report, moderators took action on a comment.");
    expect(rErrors).toEqual([]);
    expect(mErrors).toEqual([]);
  } finally {
    await shot(m, "community2-reports");
    await shot(r, "community2-reporter");
    await rctx.close();
    await mctx.close();
  }
});

/** The body of a mail as text (its transfer encoding undone; one part, or the first text part). */
function mailText(raw: string): string {
  const split = (s: string) => {
    const at = s.search(/\r?\n\r?\n/);
    return at < 0 ? ["", s] : [s.slice(0, at), s.slice(at).replace(/^\r?\n\r?\n/, "")];
  };
  let [head, body] = split(raw);
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(head)?.[1];
  if (boundary) {
    const part = body.split(`--${boundary}`).find((p) => /content-type:\s*text\/plain/i.test(p));
    if (part) [head, body] = split(part.replace(/^\r?\n/, ""));
  }
  const encoding = /content-transfer-encoding:\s*([\w-]+)/i.exec(head)?.[1]?.toLowerCase();
  if (encoding === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (encoding === "quoted-printable") {
    const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, x: string) => String.fromCharCode(parseInt(x, 16)));
    return Buffer.from(bytes, "latin1").toString("utf8");
  }
  return body;
}

/** Waits for a mail to `to` that the SMTP server received and whose text has `has`; its text. */
async function mailTo(to: string, has: string, ms = 30_000): Promise<string> {
  let found = "";
  const look = () => {
    for (const name of readdirSync(mailDir).filter((f) => f.endsWith(".eml")).sort().reverse()) {
      const raw = readFileSync(join(mailDir, name), "utf8");
      if (!new RegExp(`^To:.*${to.replace(/[.+]/g, "\\$&")}`, "mi").test(raw)) continue;
      const text = mailText(raw);
      if (text.includes(has)) {
        found = text;
        return true;
      }
    }
    return false;
  };
  await eventually(`a mail to ${to}`, () => Promise.resolve(look()), ms);
  return found;
}

test("a forgotten password: asked for on /forgot-password, the mail's link opened, a new one set, signed in with it", async () => {
  const { username } = await newUser(base, "forgetful");
  const email = `${username}@example.org`;
  const ctx = await context(browser, base);
  const page = await ctx.newPage();
  const errors = guard(page);
  try {
    // The sign-in page offers it: the server sends mail.
    await page.goto("/login");
    await page.waitForSelector("[data-testid=forgot-link]:visible");
    await page.click("[data-testid=forgot-link]");
    await page.waitForURL("**/forgot-password");
    await page.fill("[data-testid=forgot-login]", email);
    await page.click("[data-testid=forgot-submit]");
    await page.waitForSelector("[data-testid=forgot-message]:visible");
    expect(await page.textContent("[data-testid=forgot-message]")).toContain("a mail with a link is on its way");

    // The mail, from the SMTP server, carries a link to this site's reset page.
    const text = await mailTo(email, "/reset-password?token=");
    const link = /https?:\/\/\S+\/reset-password\?token=[\w-]+/.exec(text)?.[0];
    expect(link, text).toBeTruthy();
    // On this server (public_url unset: the address it listens on).
    const url = new URL(link!);
    expect(url.origin).toBe(base);
    await page.goto(url.pathname + url.search);
    const fresh = "a brand new password";
    await page.fill("[data-testid=reset-password]", fresh);
    await page.fill("[data-testid=reset-again]", fresh);
    await page.click("[data-testid=reset-submit]");
    await page.waitForSelector("[data-testid=reset-message]:visible");
    expect(await page.textContent("[data-testid=reset-message]")).toBe("Your password is changed. Sign in with it.");
    // Used once: the link no longer works.
    await page.goto(url.pathname + url.search);
    await page.fill("[data-testid=reset-password]", fresh);
    await page.fill("[data-testid=reset-again]", fresh);
    await page.click("[data-testid=reset-submit]");
    await page.waitForSelector("[data-testid=reset-message].error");
    expect(await page.textContent("[data-testid=reset-message]")).toBe("This link is not valid: it was used already or has expired. Ask for a new one.");

    // The old password is refused; the new one signs in.
    await page.goto("/login");
    await page.fill("input[name=username]", username);
    await page.fill("input[name=password]", "correct horse battery");
    await page.click("form.auth-form button[type=submit]");
    await page.waitForSelector("[data-testid=auth-error]:visible");
    expect(await page.textContent("[data-testid=auth-error]")).toBe("Wrong username or password.");
    await page.fill("input[name=password]", fresh);
    await page.click("form.auth-form button[type=submit]");
    await page.waitForSelector(`[data-testid=user]:text-is("${username}")`);
    // The reset mail reached the address: it counts as confirmed.
    await page.goto("/settings");
    await page.waitForSelector("[data-testid=email-state]");
    expect(await page.textContent("[data-testid=email-state]")).toBe("Confirmed");
    expect(errors).toEqual([]);
  } finally {
    await shot(page, "community2-reset");
    await ctx.close();
  }
});

test("a channel's owner blocked from the channel page is listed in settings and unblocked there", async () => {
  const owner = await newUser(base, "blocked");
  const handle = (await api<{ items: { handle: string }[] }>(base, "GET", "/api/v1/me/channels", owner.token)).items[0].handle;
  const viewer = await newUser(base, "blocker");
  const ctx = await context(browser, base, viewer.token, { width: 375, height: 812 });
  const page = await ctx.newPage();
  const errors = guard(page);
  try {
    await page.goto(`/c/${encodeURIComponent(handle)}`);
    await page.click("[data-testid=channel-menu] summary");
    await page.click("[data-testid=channel-block]");
    await eventually("the block kept", async () => {
      const page = await api<{ items: { username: string }[] }>(base, "GET", "/api/v1/me/blocks", viewer.token);
      return page.items.some((b) => b.username === owner.username);
    });
    // Settings, on a phone: the blocked list, and the current session marked.
    await page.goto("/settings");
    const row = `[data-testid=blocked][data-username="${owner.username}"]`;
    await page.waitForSelector(row);
    await page.waitForSelector("[data-testid=session][data-current=true] [data-testid=session-current]");
    await page.click(`${row} [data-testid=unblock]`);
    await page.waitForSelector(row, { state: "detached" });
    expect((await api<{ items: unknown[] }>(base, "GET", "/api/v1/me/blocks", viewer.token)).items).toEqual([]);
    expect(errors).toEqual([]);
  } finally {
    await shot(page, "community2-settings-phone");
    await ctx.close();
  }
});

test("an address is confirmed through the link of the mail sent from settings", async () => {
  const { username, token } = await newUser(base, "checker");
  const email = `${username}@example.org`;
  const ctx = await context(browser, base, token);
  const page = await ctx.newPage();
  const errors = guard(page);
  try {
    await page.goto("/settings");
    await page.waitForSelector("[data-testid=email-state]:text-is('Not confirmed')");
    await page.click("[data-testid=email-check]");
    await page.waitForSelector("[data-testid=profile-message]:visible");
    expect(await page.textContent("[data-testid=profile-message]")).toBe(`A mail with a link is on its way to ${email}.`);
    const text = await mailTo(email, "/verify-email?token=");
    const url = new URL(/https?:\/\/\S+\/verify-email\?token=[\w-]+/.exec(text)![0]);
    await page.goto(url.pathname + url.search);
    await page.waitForSelector("[data-testid=verify-message][data-ok=true]");
    expect(await page.textContent("[data-testid=verify-message]")).toBe("Your e-mail address is confirmed.");
    await page.goto("/settings");
    await page.waitForSelector("[data-testid=email-state]:text-is('Confirmed')");
    expect(await page.isHidden("[data-testid=email-check]")).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await ctx.close();
  }
});

test("an administrator finds a user, marks them verified and suspends them; their sign-in is refused in words", async () => {
  const target = await newUser(base, "suspect");
  const ctx = await context(browser, base, admin);
  const page = await ctx.newPage();
  const errors = guard(page);
  const theirs = await context(browser, base);
  const them = await theirs.newPage();
  try {
    // From the moderation page's tabs to the users, searched by the start of the name.
    await page.goto("/moderation");
    await page.click("[data-testid=mod-tab-users]");
    await page.waitForURL("**/admin/users");
    await page.fill("[data-testid=user-search]", target.username);
    await page.press("[data-testid=user-search]", "Enter");
    const row = `[data-testid=admin-user][data-username="${target.username}"]`;
    await page.waitForURL(`**/admin/users?q=${target.username}`);
    await page.waitForSelector(row);
    expect(await page.$$("[data-testid=admin-user]")).toHaveLength(1);
    await page.check(`${row} [data-testid=user-verified]`);
    await eventually("verified", async () => (await api<{ verified: boolean }>(base, "GET", "/api/v1/me", target.token).catch(() => ({ verified: false }))).verified);
    await page.selectOption(`${row} [data-testid=sanction-action]`, "suspend");
    await page.fill(`${row} [data-testid=sanction-days]`, "3");
    await page.fill(`${row} [data-testid=sanction-reason]`, "Спам");
    await page.click(`${row} [data-testid=sanction-apply]`);
    await page.waitForSelector(`${row} [data-testid=user-standing]:text-is("Suspended")`);

    // Their sign-in says so, with the date.
    await them.goto("/login");
    await them.fill("input[name=username]", target.username);
    await them.fill("input[name=password]", "correct horse battery");
    await them.click("form.auth-form button[type=submit]");
    await them.waitForSelector("[data-testid=auth-error]:visible");
    expect(await them.textContent("[data-testid=auth-error]")).toMatch(/^This account is suspended until \d+ \w+ \d{4}/);
    expect(errors).toEqual([]);
  } finally {
    await shot(page, "community2-admin-users");
    await ctx.close();
    await theirs.close();
  }
});
