// The community in the browser (Debian's chromium against `kadr all`, see server.ts): channels
// made and customised through their pages, an upload into a second channel reaching a
// subscriber's feed and notifications, comments with replies, likes, pins, edits and held
// comments, a like from the shorts feed, and hostile text shown as text everywhere.
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import type { Channel } from "../src/api";
import {
  api,
  ARTIFACTS,
  CLIP,
  context,
  eventually,
  launch,
  listedVideo,
  newUser,
  picture,
  playsPast,
  shot,
  signIn,
  verify,
  verticalClip,
  waitVideo,
} from "./helpers";

const base = inject("base");
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
const card = (id: string) => `[data-testid=video-card][data-video-id="${id}"]`;
/** A comment (not its parent) by its text: `:text-is` does not match text split by links. */
const comment = (text: string) => `[data-testid=comment]:has(> .comment-main > [data-testid=comment-body]:has-text("${text}"))`;

/** Fails the test on any dialog (an injected alert) and records page errors. */
function guard(page: Page): string[] {
  const errors: string[] = [];
  page.on("dialog", (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e.message}`));
  return errors;
}

test("a second channel made and dressed through its pages; an upload into it reaches a subscriber's feed and notifications", async () => {
  const creator = await newUser(base, "creator");
  const fan = await newUser(base, "fan");
  const handle = `second${suffix()}`;
  const title = `Во втором канале ${suffix()}`;
  const mine = await context(browser, base, creator.token);
  const page = await mine.newPage();
  const theirs = await context(browser, base, fan.token);
  const follower = await theirs.newPage();
  try {
    // A new channel from "My channels".
    await page.goto("/channels");
    await page.waitForSelector("[data-testid=my-channels] [data-testid=channel-row]");
    expect(await page.$$("[data-testid=my-channels] [data-testid=channel-row]")).toHaveLength(1);
    await page.fill("[data-testid=new-handle]", handle);
    await page.fill("[data-testid=new-name]", "Второй канал");
    await page.click("[data-testid=create-channel]");
    await page.waitForURL(`**/c/${handle}`);
    expect(await page.textContent("h1[data-testid=channel-name]")).toBe("Второй канал");

    // Its owner customises it: description, a link, an avatar (sent as the file's type, made
    // by the worker).
    await page.click("[data-testid=channel-edit]");
    await page.fill("[data-testid=channel-description-input]", "Про кроликов.\nИ про бабочек.");
    await page.click("[data-testid=add-link]");
    await page.fill("[data-testid=link-row] input[name=link-title]", "Blender");
    await page.fill("[data-testid=link-row] input[name=link-url]", "https://www.blender.org/");
    await page.click("[data-testid=channel-save]");
    await page.waitForSelector("[data-testid=channel-editor]", { state: "detached" });
    const png = picture(join(ARTIFACTS, "media"), "avatar.png", 400, 300);
    await page.click("[data-testid=channel-edit]");
    await page.setInputFiles("[data-testid=avatar-file]", png);
    // Done: the page is drawn again with the picture.
    await page.waitForSelector(".channel-head img.avatar", { timeout: 60_000 });
    const c = await api<Channel>(base, "GET", `/api/v1/channels/${handle}`);
    expect(c.avatar?.url).toBeTruthy();
    expect(c.description).toBe("Про кроликов.\nИ про бабочек.");
    expect(c.links).toEqual([{ title: "Blender", url: "https://www.blender.org/" }]);
    await page.click("[data-testid=tab-about]");
    await page.waitForSelector("[data-testid=channel-about]");
    expect(await page.getAttribute("[data-testid=channel-links] a", "href")).toBe("https://www.blender.org/");
    expect(await page.getAttribute("[data-testid=channel-links] a", "rel")).toBe("nofollow ugc noopener noreferrer");

    // Another user subscribes on the channel's page; the count follows at once.
    await follower.goto(`/c/${handle}`);
    expect(await follower.textContent("[data-testid=subscribers]")).toBe("0 subscribers");
    await follower.click("[data-testid=subscribe]");
    await follower.waitForSelector("[data-testid=subscribe][aria-pressed=true]");
    expect(await follower.textContent("[data-testid=subscribers]")).toBe("1 subscriber");
    expect((await api<Channel>(base, "GET", `/api/v1/channels/${handle}`, fan.token)).subscribed).toBe(true);

    // The owner uploads into the new channel through the upload page.
    await page.goto("/upload");
    await page.waitForSelector(`[data-testid=channel] option[value="${handle}"]`, { state: "attached" });
    await page.selectOption("[data-testid=channel]", handle);
    await page.setInputFiles("[data-testid=file]", CLIP);
    await page.fill("[data-testid=title]", title);
    await page.click("[data-testid=start]");
    await page.waitForSelector("[data-testid=video-state][data-playable=true]", { timeout: 150_000 });
    const id = ((await page.getAttribute("[data-testid=watch-link]", "href")) ?? "").split("/").pop()!;
    const v = await api<{ channel: { handle: string } }>(base, "GET", `/api/v1/videos/${id}`, creator.token);
    expect(v.channel.handle).toBe(handle);

    // Ready, then approved (the creator is not verified): listed, and announced.
    const state = await waitVideo(base, creator.token, id, (x) => x.status === "ready");
    expect(state.moderation?.state).toBe("pending");
    await api(base, "POST", `/api/v1/moderation/videos/${id}/approve`, admin);

    await follower.goto("/feed");
    await eventually("the video in the subscription feed", async () => !!(await follower.$(card(id))), 30_000, () => follower.reload());
    expect(await follower.textContent(`${card(id)} .card-title`)).toBe(title);
    expect(await follower.getAttribute("[data-testid=home-subscriptions]", "aria-current")).toBe("page");

    // The bell counts it; the notifications page names it and leads to it, and marks it read.
    await eventually("an unread notification on the bell", async () => (await follower.isVisible("[data-testid=unread]")), 30_000, () => follower.reload());
    await follower.click("[data-testid=bell]");
    await follower.waitForURL("**/notifications");
    const item = `[data-testid=notification][data-type=new_video][href="/watch/${id}"]`;
    await follower.waitForSelector(item);
    expect(await follower.textContent(`${item} [data-testid=notif-text]`)).toBe(`Второй канал uploaded “${title}”`);
    await follower.waitForSelector("[data-testid=unread]", { state: "hidden" });
    expect((await api<{ unread: number }>(base, "GET", "/api/v1/me/notifications/unread", fan.token)).unread).toBe(0);
    await follower.click(item);
    await follower.waitForURL(`**/watch/${id}`);
    expect(await follower.textContent("[data-testid=watch-title]")).toBe(title);
    // Watching it, the subscriber sees they follow its channel.
    await follower.waitForSelector("[data-testid=subscribe][aria-pressed=true]");

    // A channel is deleted only with its handle typed again; the only one is refused.
    const spare = `spare${suffix()}`;
    await api(base, "POST", "/api/v1/channels", creator.token, { handle: spare });
    await page.goto(`/c/${spare}`);
    await page.click("[data-testid=channel-edit]");
    await page.click(".danger-zone summary");
    expect(await page.isDisabled("[data-testid=channel-delete]")).toBe(true);
    await page.fill("[data-testid=delete-confirm]", spare.slice(0, -1));
    expect(await page.isDisabled("[data-testid=channel-delete]")).toBe(true);
    await page.fill("[data-testid=delete-confirm]", spare);
    await page.click("[data-testid=channel-delete]");
    await page.waitForURL("**/channels");
    await page.waitForSelector("[data-testid=my-channels] [data-testid=channel-row]");
    expect(await page.$(`[data-testid=channel-row][data-handle="${spare}"]`)).toBeNull();
    const only = (await newUser(base, "lonely")).token;
    const lonely = await context(browser, base, only);
    const lonelyPage = await lonely.newPage();
    try {
      const own = (await api<{ items: Channel[] }>(base, "GET", "/api/v1/me/channels", only)).items[0].handle;
      await lonelyPage.goto(`/c/${own}`);
      await lonelyPage.click("[data-testid=channel-edit]");
      await lonelyPage.click(".danger-zone summary");
      await lonelyPage.fill("[data-testid=delete-confirm]", own);
      await lonelyPage.click("[data-testid=channel-delete]");
      await lonelyPage.waitForSelector("[data-testid=delete-error]:visible");
      expect(await lonelyPage.textContent("[data-testid=delete-error]")).toBe("This is your only channel: it cannot be deleted.");
    } finally {
      await lonely.close();
    }
  } finally {
    await shot(page, "community-channel-owner");
    await shot(follower, "community-follower");
    await mine.close();
    await theirs.close();
  }
});

test("comments: post, seek to a time, reply, like, pin, edit, hold for approval, delete", async () => {
  const owner = await newUser(base, "owner");
  await verify(base, admin, owner.token);
  const viewer = await newUser(base, "viewer");
  const id = await listedVideo(base, admin, owner.token, CLIP, { title: `Обсуждаем ${suffix()}` });
  const ownerCtx = await context(browser, base, owner.token);
  const viewerCtx = await context(browser, base, viewer.token);
  const o = await ownerCtx.newPage();
  const w = await viewerCtx.newPage();
  const oErrors = guard(o);
  const wErrors = guard(w);
  try {
    // The viewer comments; the count follows; the time in it seeks the player.
    const first = "Смотрите с 0:03 — https://example.org/kadr";
    await w.goto(`/watch/${id}`);
    await w.waitForSelector("[data-testid=comments-count]:text-is('0 comments')");
    await w.fill("[data-testid=comment-form-input]", first);
    await w.click("[data-testid=comment-form-submit]");
    await w.waitForSelector(comment(first));
    expect(await w.textContent("[data-testid=comments-count]")).toBe("1 comment");
    expect(await w.getAttribute(`${comment(first)} a.ext`, "href")).toBe("https://example.org/kadr");
    await w.waitForSelector("video");
    await w.click(`${comment(first)} button.timestamp`);
    await w.waitForFunction(() => (document.querySelector("video")?.currentTime ?? 0) >= 2.9, undefined, { timeout: 30_000 });

    // The owner likes it, replies and pins it.
    await o.goto(`/watch/${id}`);
    const c = comment(first);
    await o.waitForSelector(c);
    expect(await o.textContent("[data-testid=comments-count]")).toBe("1 comment");
    await o.click(`${c} [data-testid=comment-like]`);
    await o.waitForSelector(`${c} [data-testid=comment-like][aria-pressed=true]`);
    expect(await o.textContent(`${c} [data-testid=comment-like]`)).toBe("1");
    await o.click(`${c} [data-testid=reply]`);
    await o.fill("[data-testid=reply-form-input]", "Спасибо!");
    await o.click("[data-testid=reply-form-submit]");
    await o.waitForSelector(`${c} [data-testid=replies] [data-testid=comment-body]:text-is("Спасибо!")`);
    expect(await o.textContent("[data-testid=comments-count]")).toBe("2 comments");
    await o.click(`${c} [data-testid=pin]`);
    await o.waitForSelector(`${c} [data-testid=pinned]`);

    // The viewer sees it pinned, liked and answered.
    await eventually(
      "the pin, the like and the reply as the viewer sees them",
      async () => {
        await w.waitForSelector(c);
        return (await w.$(`${c} [data-testid=pinned]`)) !== null && (await w.textContent(`${c} [data-testid=comment-like]`)) === "1";
      },
      15_000,
      () => w.reload(),
    );
    expect(await w.textContent(`${c} [data-testid=show-replies]`)).toBe("Show 1 reply");
    await w.click(`${c} [data-testid=show-replies]`);
    await w.waitForSelector(`${c} [data-testid=replies] [data-testid=comment-body]:text-is("Спасибо!")`);
    expect(await w.textContent(`${c} [data-testid=replies] .pill.owner`)).toBe("Author");

    // The reply is a notification for the viewer.
    await eventually(
      "the reply's notification",
      async () => (await w.$(`[data-testid=notification][data-type=comment_reply][href="/watch/${id}"]`)) !== null,
      30_000,
      () => w.goto("/notifications"),
    );
    // It quotes the reply.
    expect(await w.textContent(`[data-testid=notification][data-type=comment_reply] [data-testid=notif-text]`)).toBe(
      `${owner.username} replied to your comment: “Спасибо!”`,
    );

    // The viewer edits the comment: marked edited.
    await w.goto(`/watch/${id}`);
    await w.waitForSelector(c);
    await w.click(`${c} [data-testid=comment-edit]`);
    await w.fill("[data-testid=edit-form-input]", "Смотрите с 0:04!");
    await w.click("[data-testid=edit-form-submit]");
    const edited = comment("Смотрите с 0:04!");
    await w.waitForSelector(`${edited} [data-testid=edited]`);

    // The owner holds comments for approval; the viewer is told theirs waits.
    await o.reload();
    await o.selectOption("[data-testid=comment-policy]", "hold");
    await eventually("the policy saved", async () => (await api<{ comment_policy: string }>(base, "GET", `/api/v1/videos/${id}`)).comment_policy === "hold");
    await w.reload();
    await w.fill("[data-testid=comment-form-input]", "На проверку");
    await w.click("[data-testid=comment-form-submit]");
    await w.waitForSelector("[data-testid=comment-notice]:visible");
    expect(await w.textContent("[data-testid=comment-notice]")).toBe("Your comment will appear to others once the channel's owner or a moderator approves it.");
    await w.waitForSelector(`${comment("На проверку")} [data-testid=held]`);

    // Moderators see it in their queue of held comments too.
    const modCtx = await context(browser, base, admin);
    const mod = await modCtx.newPage();
    try {
      await mod.goto("/moderation");
      await mod.click("[data-testid=mod-tab-comments]");
      await mod.waitForSelector(`[data-testid=mod-comment]:has([data-testid=comment-body]:text-is("На проверку"))`);
    } finally {
      await modCtx.close();
    }

    await o.reload();
    await o.click("[data-testid=held-toggle]");
    const held = `[data-testid=held-list] ${comment("На проверку")}`;
    await o.waitForSelector(held);
    await o.click(`${held} [data-testid=approve-comment]`);
    await o.waitForSelector(held, { state: "detached" });
    await o.waitForSelector(`[data-testid=comment-list] > ${comment("На проверку")}`);

    // The viewer deletes it (after confirming).
    await w.reload();
    await w.waitForSelector(comment("На проверку"));
    w.removeAllListeners("dialog");
    w.once("dialog", (d) => void d.accept());
    await w.click(`${comment("На проверку")} [data-testid=comment-delete]`);
    await w.waitForSelector(comment("На проверку"), { state: "detached" });
    await eventually("the comment gone", async () => {
      const page = await api<{ items: { body: string }[] }>(base, "GET", `/api/v1/videos/${id}/comments`);
      return !page.items.some((x) => x.body === "На проверку");
    });
    expect(oErrors).toEqual([]);
    expect(wErrors.filter((e) => !e.startsWith("dialog"))).toEqual([]);
  } finally {
    await shot(o, "community-comments-owner");
    await shot(w, "community-comments-viewer");
    await ownerCtx.close();
    await viewerCtx.close();
  }
});

test("a short is liked, commented on and its channel followed from the shorts feed", async () => {
  const maker = await newUser(base, "shorts");
  await verify(base, admin, maker.token);
  const id = await listedVideo(base, admin, maker.token, verticalClip(join(ARTIFACTS, "media")), { title: `Вертикально ${suffix()}` });
  expect((await waitVideo(base, maker.token, id, () => true)).is_short).toBe(true);
  const fan = await newUser(base, "swiper");
  const ctx = await context(browser, base, fan.token, { width: 375, height: 812 });
  const page = await ctx.newPage();
  const errors = guard(page);
  try {
    await page.goto("/shorts");
    const slide = `[data-testid=short][data-video-id="${id}"]`;
    await page.waitForSelector(slide, { timeout: 30_000 });
    await page.locator(slide).scrollIntoViewIfNeeded();
    await playsPast(page, 0.5, `${slide} video`);
    // Like: counted at once, and the server has it.
    await page.click(`${slide} [data-testid=like]`);
    await page.waitForSelector(`${slide} [data-testid=like][aria-pressed=true]`);
    expect(await page.textContent(`${slide} [data-testid=likes]`)).toBe("1");
    await eventually("the rating saved", async () => (await api<{ rating: string }>(base, "GET", `/api/v1/videos/${id}/rating`, fan.token)).rating === "like");
    // The tap on a button does not toggle the sound.
    expect(await page.$eval(`${slide} video`, (v) => (v as HTMLVideoElement).muted)).toBe(true);

    // Comments open over the feed, for this video.
    await page.click(`${slide} [data-testid=short-comments]`);
    await page.waitForSelector("[data-testid=short-panel]:visible");
    await page.fill("[data-testid=short-panel] [data-testid=comment-form-input]", "Классный шортс");
    await page.click("[data-testid=short-panel] [data-testid=comment-form-submit]");
    await page.waitForSelector(`[data-testid=short-panel] ${comment("Классный шортс")}`);
    expect(await page.textContent(`${slide} [data-testid=short-comment-count]`)).toBe("1");
    await page.click("[data-testid=short-panel-close]");
    await page.waitForSelector("[data-testid=short-panel]", { state: "hidden" });

    // Subscribe from the short; it is then in the subscriptions source.
    await page.click(`${slide} [data-testid=subscribe]`);
    await page.waitForSelector(`${slide} [data-testid=subscribe][aria-pressed=true]`);
    // The button turns at once; the feed is read from the server, so wait for it to have the
    // subscription (on a loaded machine the request can still be on its way).
    const handle = (await api<{ channel: { handle: string } }>(base, "GET", `/api/v1/videos/${id}`, fan.token)).channel.handle;
    await eventually("the subscription saved", async () => (await api<{ subscribed: boolean }>(base, "GET", `/api/v1/channels/${handle}`, fan.token)).subscribed);
    await page.click("[data-testid=shorts-subscriptions]");
    await page.waitForURL("**/shorts?feed=subscriptions");
    await page.waitForSelector(slide);
    expect(await page.$$("[data-testid=short]")).toHaveLength(1);
    // Liked videos list it too.
    await page.goto("/liked");
    await page.waitForSelector(card(id));
    expect(errors).toEqual([]);
  } finally {
    await shot(page, "community-shorts");
    await ctx.close();
  }
});

test("hostile text in a comment, a video's title and description and a channel's description stays text", async () => {
  // Each would set window.__xss, open a dialog or add an element if taken as markup.
  const XSS = `<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>" onmouseover="window.__xss=3" javascript:alert(4) <a href="javascript:alert(5)">x</a> &lt;b&gt;&amp;`;
  const author = await newUser(base, "mallory");
  await verify(base, admin, author.token);
  const handle = (await api<{ items: Channel[] }>(base, "GET", "/api/v1/me/channels", author.token)).items[0].handle;
  const victim = await newUser(base, "victim");
  await api(base, "PUT", `/api/v1/channels/${handle}/subscription`, victim.token);
  const id = await listedVideo(base, admin, author.token, CLIP, { title: XSS, description: `${XSS}\n0:02 https://example.org/?q="x"` });

  const authorCtx = await context(browser, base, author.token);
  const a = await authorCtx.newPage();
  const aErrors = guard(a);
  const victimCtx = await context(browser, base, victim.token);
  const v = await victimCtx.newPage();
  const vErrors = guard(v);
  /** Nothing ran and nothing was injected; `text` is on the page as characters. */
  const inert = async (page: Page, where: string) => {
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), where).toBeUndefined();
    expect(await page.$$('main img[src="x"], main script, main a[href^="javascript:"], main [onmouseover], main [onerror]'), where).toEqual([]);
    expect(await page.evaluate(() => document.querySelector("main")!.textContent), where).toContain(XSS);
  };
  try {
    // The channel's description through the owner's form.
    await a.goto(`/c/${handle}`);
    await a.click("[data-testid=channel-edit]");
    await a.fill("[data-testid=channel-description-input]", XSS);
    await a.click("[data-testid=channel-save]");
    await a.waitForSelector("[data-testid=channel-editor]", { state: "detached" });
    await a.click("[data-testid=tab-about]");
    await a.waitForSelector("[data-testid=channel-description]");
    expect(await a.textContent("[data-testid=channel-description]")).toBe(XSS);
    await inert(a, "channel about");

    // The title and description on the watch page, and a comment.
    await v.goto(`/watch/${id}`);
    expect(await v.textContent("[data-testid=watch-title]")).toBe(XSS);
    expect(await v.textContent("[data-testid=watch-description]")).toBe(`${XSS}\n0:02 https://example.org/?q="x"`);
    expect(await v.getAttribute("[data-testid=watch-description] a.ext", "href")).toBe("https://example.org/?q=");
    await v.fill("[data-testid=comment-form-input]", XSS);
    await v.click("[data-testid=comment-form-submit]");
    await v.waitForSelector("[data-testid=comment]");
    expect(await v.textContent("[data-testid=comment-body]")).toBe(XSS);
    await v.hover("[data-testid=comment-body]");
    await v.hover("[data-testid=watch-title]");
    await inert(v, "watch page");
    await v.reload();
    await v.waitForSelector("[data-testid=comment]");
    await inert(v, "watch page, reloaded");

    // The title in the subscriber's feed, on the channel page and in a notification.
    await v.goto("/feed");
    await eventually("the video in the feed", async () => !!(await v.$(card(id))), 30_000, () => v.reload());
    expect(await v.textContent(`${card(id)} .card-title`)).toBe(XSS);
    await inert(v, "feed");
    await v.goto(`/c/${handle}`);
    await v.waitForSelector(card(id));
    await inert(v, "channel videos");
    await v.goto("/notifications");
    await eventually("the new video's notification", async () => !!(await v.$(`[data-testid=notification][href="/watch/${id}"]`)), 30_000, () => v.reload());
    await inert(v, "notifications");

    // The author is told of the reply… there is none; the comment's text on their page.
    await a.goto(`/watch/${id}`);
    await a.waitForSelector("[data-testid=comment]");
    await inert(a, "watch page, owner");
    expect(aErrors).toEqual([]);
    expect(vErrors).toEqual([]);
  } finally {
    await shot(v, "community-xss");
    await authorCtx.close();
    await victimCtx.close();
  }
});
