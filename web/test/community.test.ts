// @vitest-environment happy-dom
// The comments section, the like and subscribe buttons, notifications and the bell against a
// stubbed API: what they send, what they show at once, and that user text stays text.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, retryAfterSecs, setToken, type Comment, type CommentPage, type Notification, type User, type Video } from "../src/api";
import { commentsSection } from "../src/comments";
import { t } from "../src/i18n";
import { channelLimits, commentLimits, commentPolicyChoices } from "../src/limits";
import { problemText } from "../src/messages";
import { badgeText } from "../src/notify";
import { moderation } from "../src/pages/moderation";
import { notificationHref, notificationText, notifications } from "../src/pages/notifications";
import { upload } from "../src/pages/upload";
import type { Cleanup } from "../src/router";
import { ratingButtons, subscribeButton } from "../src/social";
import { choices, property } from "./doc";

const alice: User = { id: "u-alice", username: "alice", role: "user", verified: true, created_at: "2026-11-23T00:00:00Z" };
const video: Pick<Video, "id" | "comments" | "comment_policy" | "duration_secs"> = { id: "v1", comments: 2, comment_policy: "open", duration_secs: 100 };
const XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script> javascript:alert(1) " onmouseover="window.__xss=1" &lt;b&gt;';

function comment(over: Partial<Comment>): Comment {
  return {
    id: "c1",
    video_id: "v1",
    body: "hello",
    author: { id: "u-bob", username: "bob", channel_handle: "bob" },
    created_at: "2026-11-23T00:00:00Z",
    likes: 0,
    replies: 0,
    held: false,
    pinned: false,
    by_owner: false,
    liked: false,
    ...over,
  };
}
const page = (items: Comment[], over: Partial<CommentPage> = {}): CommentPage => ({ items, count: items.length, policy: "open", ...over });

type Answer = (init: RequestInit, url: string) => Response | Promise<Response>;
let seen: [string, string, string | undefined][];
/** Stubs fetch with an answer per "METHOD path" (the query left out); anything else fails. */
function serve(answers: Record<string, Answer>) {
  seen = [];
  vi.stubGlobal(
    "fetch",
    vi.fn((input: string, init: RequestInit = {}) => {
      const method = init.method ?? "GET";
      seen.push([method, input, init.body as string | undefined]);
      const answer = answers[`${method} ${input.split("?")[0]}`];
      return answer ? Promise.resolve(answer(init, input)) : Promise.reject(new Error(`unexpected request ${method} ${input}`));
    }),
  );
}
const problem = (status: number, code: string, headers: Record<string, string> = {}) =>
  Response.json({ type: `urn:kadr:problem:${code}`, title: code, status, code }, { status, headers });
const settle = () => new Promise((ok) => setTimeout(ok, 0));
const q = (root: ParentNode, testid: string) => root.querySelector<HTMLElement>(`[data-testid=${testid}]`);
const all = (root: ParentNode, testid: string) => [...root.querySelectorAll<HTMLElement>(`[data-testid=${testid}]`)];

let cleanup: Cleanup;
beforeEach(() => {
  document.body.replaceChildren();
  cleanup = undefined;
  setToken("token");
  vi.stubGlobal("confirm", () => true);
});
afterEach(() => {
  if (typeof cleanup === "function") cleanup();
  vi.unstubAllGlobals();
  setToken(null);
});

describe("comments", () => {
  it("show their text as text, with links and times made safe", async () => {
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([comment({ body: `${XSS} https://example.org/a 1:05` })])),
    });
    const seek = vi.fn();
    const s = commentsSection({ video, user: alice, owner: false, reviewer: false, seek });
    document.body.append(s.el);
    await settle();
    const body = q(s.el, "comment-body")!;
    expect(body.textContent).toBe(`${XSS} https://example.org/a 1:05`);
    expect([...body.querySelectorAll("*")].map((e) => e.tagName)).toEqual(["A", "BUTTON"]);
    expect(body.querySelector("a")!.getAttribute("href")).toBe("https://example.org/a");
    expect(document.querySelectorAll("script, img[src=x]")).toHaveLength(0);
    body.querySelector("button")!.click();
    expect(seek).toHaveBeenCalledWith(65);
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
    // The author's name is text too.
    serve({ "GET /api/v1/videos/v1/comments": () => Response.json(page([comment({ author: { id: "x", username: XSS } })])) });
    const s2 = commentsSection({ video, user: null, owner: false, reviewer: false });
    await settle();
    expect(s2.el.querySelector(".comment-author")!.textContent).toBe(XSS);
    expect(s2.el.querySelectorAll(".comment-author *")).toHaveLength(0);
  });

  it("put the pinned comment first, once, and load more with the cursor", async () => {
    const pinned = comment({ id: "p", body: "pinned", pinned: true });
    serve({
      "GET /api/v1/videos/v1/comments": (_i, url) =>
        url.includes("cursor=next")
          ? Response.json(page([comment({ id: "c3", body: "third" })], { count: 3 }))
          : Response.json(page([comment({ id: "c2", body: "second" }), pinned], { pinned, next_cursor: "next", count: 3 })),
    });
    const s = commentsSection({ video, user: alice, owner: false, reviewer: false });
    await settle();
    expect(all(s.el, "comment-body").map((b) => b.textContent)).toEqual(["pinned", "second"]);
    expect(q(s.el, "pinned")).not.toBeNull();
    expect(q(s.el, "comments-count")!.textContent).toBe("3 comments");
    q(s.el, "comments-more")!.click();
    await settle();
    expect(all(s.el, "comment-body").map((b) => b.textContent)).toEqual(["pinned", "second", "third"]);
    expect(seen.at(-1)?.[1]).toBe("/api/v1/videos/v1/comments?sort=new&cursor=next&limit=20");
    expect(q(s.el, "comments-more")!.hidden).toBe(true);
    // Top comments: the list again, sorted by the server.
    q(s.el, "sort-top")!.click();
    await settle();
    expect(seen.at(-1)?.[1]).toBe("/api/v1/videos/v1/comments?sort=top&limit=20");
  });

  it("post with the document's length limit; a held one is announced and not counted", async () => {
    let held = false;
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([], { count: 2 })),
      "POST /api/v1/videos/v1/comments": (init) =>
        Response.json(comment({ id: held ? "h" : "n", body: (JSON.parse(init.body as string) as { body: string }).body, author: { id: alice.id, username: "alice" }, held }), { status: 201 }),
    });
    const s = commentsSection({ video, user: alice, owner: false, reviewer: false });
    await settle();
    const input = s.el.querySelector<HTMLTextAreaElement>("[data-testid=comment-form-input]")!;
    expect(input.maxLength).toBe(property("NewComment", "body").maxLength);
    expect(input.maxLength).toBe(property("CommentEdit", "body").maxLength);
    input.value = "  first!  ";
    input.dispatchEvent(new Event("input"));
    s.el.querySelector<HTMLFormElement>("[data-testid=comment-form]")!.requestSubmit();
    await settle();
    expect(seen.at(-1)).toEqual(["POST", "/api/v1/videos/v1/comments", '{"body":"first!"}']);
    expect(q(s.el, "comments-count")!.textContent).toBe("3 comments");
    expect(q(s.el, "comment-notice")!.hidden).toBe(true);
    expect(input.value).toBe("");

    held = true;
    input.value = "held one";
    input.dispatchEvent(new Event("input"));
    s.el.querySelector<HTMLFormElement>("[data-testid=comment-form]")!.requestSubmit();
    await settle();
    expect(q(s.el, "comments-count")!.textContent).toBe("3 comments");
    expect(q(s.el, "comment-notice")!.hidden).toBe(false);
    expect(q(s.el, "comment-notice")!.textContent).toBe(t("comments.heldnotice"));
    expect(s.el.querySelector('[data-comment-id="h"] [data-testid=held]')).not.toBeNull();
  });

  it("count at least what they show (the server's count follows a second later)", async () => {
    serve({ "GET /api/v1/videos/v1/comments": () => Response.json(page([comment({ replies: 2 })], { count: 0 })) });
    const s = commentsSection({ video, user: null, owner: false, reviewer: false });
    await settle();
    expect(q(s.el, "comments-count")!.textContent).toBe("3 comments");
  });

  it("say why a post was refused, with the wait a rate limit asks for", async () => {
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([])),
      "POST /api/v1/videos/v1/comments": () => problem(429, "too_many_actions", { "Retry-After": "17" }),
    });
    const s = commentsSection({ video, user: alice, owner: false, reviewer: false });
    await settle();
    const input = s.el.querySelector<HTMLTextAreaElement>("[data-testid=comment-form-input]")!;
    input.value = "spam";
    input.dispatchEvent(new Event("input"));
    s.el.querySelector<HTMLFormElement>("[data-testid=comment-form]")!.requestSubmit();
    await settle();
    expect(q(s.el, "comments-error")!.textContent).toBe("That was too many actions in a row; try again in 17 s.");
    // Kept for another try.
    expect(input.value).toBe("spam");
  });

  it("like at once, and go back when the server refuses", async () => {
    let refuse = false;
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([comment({ likes: 4 })])),
      "PUT /api/v1/comments/c1/like": () => (refuse ? problem(429, "too_many_actions") : new Response(null, { status: 204 })),
      "DELETE /api/v1/comments/c1/like": () => new Response(null, { status: 204 }),
    });
    const s = commentsSection({ video, user: alice, owner: false, reviewer: false });
    await settle();
    const like = q(s.el, "comment-like")!;
    like.click();
    expect(like.textContent).toBe("5");
    expect(like.getAttribute("aria-pressed")).toBe("true");
    await settle();
    expect(seen.at(-1)?.slice(0, 2)).toEqual(["PUT", "/api/v1/comments/c1/like"]);
    like.click();
    expect(like.textContent).toBe("4");
    await settle();
    refuse = true;
    like.click();
    expect(like.textContent).toBe("5");
    await settle();
    await settle();
    expect(like.textContent).toBe("4");
    expect(like.getAttribute("aria-pressed")).toBe("false");
    expect(q(s.el, "comments-error")!.hidden).toBe(false);
  });

  it("offer each action to whom the API allows it", async () => {
    const mine = comment({ id: "m", author: { id: alice.id, username: "alice" } });
    const theirs = comment({ id: "o" });
    serve({ "GET /api/v1/videos/v1/comments": () => Response.json(page([mine, theirs])), "GET /api/v1/videos/v1/comments/held": () => Response.json(page([])) });
    const actions = async (opts: { owner: boolean; reviewer: boolean }) => {
      const s = commentsSection({ video, user: alice, ...opts });
      await settle();
      const of = (id: string) =>
        ["reply", "comment-edit", "comment-delete", "pin", "comment-like"].filter((a) => s.el.querySelector(`[data-comment-id="${id}"] [data-testid=${a}]`));
      return { mine: of("m"), theirs: of("o"), policy: !!q(s.el, "comment-policy"), held: !!q(s.el, "held-toggle") };
    };
    expect(await actions({ owner: false, reviewer: false })).toEqual({
      mine: ["reply", "comment-edit", "comment-delete", "comment-like"],
      theirs: ["reply", "comment-like"],
      policy: false,
      held: false,
    });
    // A moderator: deletes any, reviews held ones; does not pin or set the policy.
    expect(await actions({ owner: false, reviewer: true })).toEqual({
      mine: ["reply", "comment-edit", "comment-delete", "comment-like"],
      theirs: ["reply", "comment-delete", "comment-like"],
      policy: false,
      held: true,
    });
    expect(await actions({ owner: true, reviewer: true })).toEqual({
      mine: ["reply", "comment-edit", "comment-delete", "pin", "comment-like"],
      theirs: ["reply", "comment-delete", "pin", "comment-like"],
      policy: true,
      held: true,
    });
  });

  it("let the owner choose the document's policies, and pin", async () => {
    let policy = "open";
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([comment({})], { policy: policy as CommentPage["policy"] })),
      "GET /api/v1/videos/v1/comments/held": () => Response.json(page([comment({ id: "h", held: true, body: "wait" })])),
      "PATCH /api/v1/videos/v1": (init) => {
        policy = (JSON.parse(init.body as string) as { comments: string }).comments;
        return Response.json({ id: "v1", comment_policy: policy });
      },
      "PUT /api/v1/comments/c1/pin": () => new Response(null, { status: 204 }),
      "POST /api/v1/comments/h/approve": () => Response.json(comment({ id: "h", body: "wait" })),
    });
    const s = commentsSection({ video, user: alice, owner: true, reviewer: true });
    await settle();
    const select = s.el.querySelector<HTMLSelectElement>("[data-testid=comment-policy]")!;
    expect([...select.options].map((o) => o.value)).toEqual(choices("VideoPatch", "comments"));
    expect(commentPolicyChoices).toEqual(choices("VideoJson", "comment_policy"));
    select.value = "off";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(seen.find((r) => r[0] === "PATCH")).toEqual(["PATCH", "/api/v1/videos/v1", '{"comments":"off"}']);
    // Off: no form to post with.
    expect(q(s.el, "comment-form")).toBeNull();

    q(s.el, "pin")!.click();
    await settle();
    expect(seen.some((r) => r[0] === "PUT" && r[1] === "/api/v1/comments/c1/pin")).toBe(true);

    q(s.el, "held-toggle")!.click();
    await settle();
    const list = q(s.el, "held-list")!;
    expect(list.hidden).toBe(false);
    list.querySelector<HTMLElement>("[data-testid=approve-comment]")!.click();
    await settle();
    expect(seen.some((r) => r[0] === "POST" && r[1] === "/api/v1/comments/h/approve")).toBe(true);
    expect(list.querySelector('[data-comment-id="h"]')).toBeNull();
    // Counted at once; the list drawn again (whose count the server has not folded yet)
    // does not take it back.
    await settle();
    expect(seen.at(-1)?.[1]).toBe("/api/v1/videos/v1/comments?sort=new&limit=20");
    expect(q(s.el, "comments-count")!.textContent).toBe("2 comments");
  });

  it("list each held comment once, however the loads cross", async () => {
    let release: () => void = () => {};
    let calls = 0;
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([])),
      // The first answer (asked when the section opens) comes after the second (asked when
      // the list is opened).
      "GET /api/v1/videos/v1/comments/held": () => {
        const answer = Response.json(page([comment({ id: "h", held: true })]));
        return calls++ === 0 ? new Promise<Response>((ok) => (release = () => ok(answer))) : answer;
      },
    });
    const s = commentsSection({ video, user: alice, owner: true, reviewer: true });
    await settle();
    q(s.el, "held-toggle")!.click();
    await settle();
    release();
    await settle();
    expect(q(s.el, "held-list")!.querySelectorAll('[data-comment-id="h"]')).toHaveLength(1);
    expect(q(s.el, "held-toggle")!.textContent).toBe("Held comments (1)");
  });

  it("show replies on request and post one under its comment", async () => {
    serve({
      "GET /api/v1/videos/v1/comments": () => Response.json(page([comment({ replies: 1 })], { count: 2 })),
      "GET /api/v1/comments/c1/replies": () => Response.json(page([comment({ id: "r1", parent_id: "c1", body: "a reply" })])),
      "POST /api/v1/videos/v1/comments": (init) =>
        Response.json(comment({ id: "r2", parent_id: "c1", body: (JSON.parse(init.body as string) as { body: string }).body, author: { id: alice.id, username: "alice" } }), { status: 201 }),
    });
    const s = commentsSection({ video, user: alice, owner: false, reviewer: false });
    await settle();
    const toggle = q(s.el, "show-replies")!;
    expect(toggle.textContent).toBe("Show 1 reply");
    toggle.click();
    await settle();
    expect(all(q(s.el, "replies")!, "comment-body").map((b) => b.textContent)).toEqual(["a reply"]);
    // Replies have no replies of their own.
    expect(q(q(s.el, "replies")!, "reply")).toBeNull();

    q(s.el, "reply")!.click();
    const input = s.el.querySelector<HTMLTextAreaElement>("[data-testid=reply-form-input]")!;
    input.value = "me too";
    input.dispatchEvent(new Event("input"));
    s.el.querySelector<HTMLFormElement>("[data-testid=reply-form]")!.requestSubmit();
    await settle();
    expect(JSON.parse(seen.find((r) => r[0] === "POST")![2]!)).toEqual({ body: "me too", parent_id: "c1" });
    expect(all(q(s.el, "replies")!, "comment-body").map((b) => b.textContent)).toEqual(["a reply", "me too"]);
    expect(q(s.el, "comments-count")!.textContent).toBe("3 comments");
  });
});

describe("moderators' held comments", () => {
  it("list them as text, each leading to its video, and approve or delete them", async () => {
    serve({
      "GET /api/v1/me": () => Response.json({ ...alice, role: "moderator" }),
      "GET /api/v1/moderation/comments": () => Response.json(page([comment({ id: "h1", held: true, body: XSS }), comment({ id: "h2", held: true })])),
      "POST /api/v1/comments/h1/approve": () => Response.json(comment({ id: "h1" })),
      "DELETE /api/v1/comments/h2": () => new Response(null, { status: 204 }),
    });
    const root = document.createElement("main");
    cleanup = await moderation(root, [], new URL("http://k.test/moderation?tab=comments"));
    await settle();
    const items = all(root, "mod-comment");
    expect(items).toHaveLength(2);
    expect(q(items[0], "comment-body")!.textContent).toBe(XSS);
    expect(root.querySelectorAll("script, img[src=x]")).toHaveLength(0);
    expect(items[0].querySelector("a")!.getAttribute("href")).toBe("/watch/v1");
    q(items[0], "approve-comment")!.click();
    q(items[1], "delete-comment")!.click();
    await settle();
    expect(all(root, "mod-comment")).toHaveLength(0);
    expect(root.textContent).toContain(t("mod.commentsempty"));
    expect(seen.map((r) => `${r[0]} ${r[1]}`)).toContain("POST /api/v1/comments/h1/approve");
    expect(seen.map((r) => `${r[0]} ${r[1]}`)).toContain("DELETE /api/v1/comments/h2");
  });
});

describe("likes and subscriptions", () => {
  it("count a like at once and send the rating", async () => {
    serve({
      "GET /api/v1/videos/v1/rating": () => Response.json({ rating: "none" }),
      "PUT /api/v1/videos/v1/rating": (init) => Response.json(JSON.parse(init.body as string)),
    });
    const el = ratingButtons({ id: "v1", likes: 9, dislikes: null }, alice);
    await settle();
    const like = q(el, "like")!;
    const dislike = q(el, "dislike")!;
    expect(like.textContent).toBe("9");
    expect(dislike.textContent).toBe("");
    like.click();
    expect(like.textContent).toBe("10");
    await settle();
    expect(seen.at(-1)).toEqual(["PUT", "/api/v1/videos/v1/rating", '{"rating":"like"}']);
    dislike.click();
    expect(like.textContent).toBe("9");
    expect(dislike.getAttribute("aria-pressed")).toBe("true");
    await settle();
    expect(seen.at(-1)).toEqual(["PUT", "/api/v1/videos/v1/rating", '{"rating":"dislike"}']);
  });

  it("subscribe at once, then show the server's count", async () => {
    serve({ "PUT /api/v1/channels/ch/subscription": () => Response.json({ subscribed: true, subscribers: 42 }) });
    const counts: number[] = [];
    const el = subscribeButton({ handle: "ch", subscribers: 40, subscribed: false, mine: false }, alice, (n) => counts.push(n))!;
    const button = q(el, "subscribe")!;
    expect(button.textContent).toBe("Subscribe");
    button.click();
    expect(button.textContent).toBe("Subscribed");
    expect(counts.at(-1)).toBe(41);
    await settle();
    expect(counts.at(-1)).toBe(42);
    expect(subscribeButton({ handle: "ch", subscribers: 0, subscribed: null, mine: true }, alice)).toBeNull();
  });
});

describe("notifications", () => {
  const n = (over: Partial<Notification>): Notification => ({ id: 1, type: "new_video", created_at: "2026-11-23T00:00:00Z", read: false, data: {}, ...over });
  const v = { id: "v1", title: "Кот", channel_handle: "cats", channel_name: "Cats" };

  it("say what happened and lead to the video", () => {
    expect(notificationText(n({ video: v }))).toBe("Cats uploaded “Кот”");
    expect(notificationText(n({ type: "comment_reply", actor: "bob", video: v, comment: { id: "c", excerpt: "me too" } }))).toBe("bob replied to your comment: “me too”");
    expect(notificationText(n({ type: "like_milestone", video: v, data: { likes: 100 } }))).toBe("“Кот” got 100 likes");
    expect(notificationText(n({ type: "moderation", video: v, data: { decision: "rejected", reason: "spam" } as never }))).toBe("“Кот” was rejected by moderation: spam");
    expect(notificationText(n({ type: "moderation", video: v, data: { decision: "approved" } as never }))).toBe("“Кот” was approved and is now visible");
    expect(notificationText(n({ type: "processed", video: v }))).toBe("“Кот” is processed and ready");
    expect(notificationText(n({ type: "processing_failed", video: v, data: { code: "no_video_stream" } as never }))).toBe("“Кот” could not be processed (no_video_stream)");
    expect(notificationHref(n({ video: v }))).toBe("/watch/v1");
    expect(notificationHref(n({ type: "comment_reply", video: v }))).toBe("/watch/v1");
    expect(notificationHref(n({ video: null }))).toBeNull();
    expect(badgeText(0)).toBe("");
    expect(badgeText(7)).toBe("7");
    expect(badgeText(100)).toBe("99+");
  });

  it("show titles as text, and mark those shown read", async () => {
    serve({
      "GET /api/v1/me": () => Response.json(alice),
      "GET /api/v1/me/notifications": () =>
        Response.json({ items: [n({ id: 5, video: { ...v, title: XSS } }), n({ id: 4, read: true, video: v })], unread: 1 }),
      "POST /api/v1/me/notifications/read": () => Response.json({ unread: 0 }),
    });
    const root = document.createElement("main");
    document.body.append(root);
    cleanup = await notifications(root, [], new URL("http://k.test/notifications"));
    const items = all(root, "notification");
    expect(items).toHaveLength(2);
    expect(items[0].getAttribute("href")).toBe("/watch/v1");
    expect(items[0].textContent).toContain(XSS);
    expect(root.querySelectorAll("script, img[src=x]")).toHaveLength(0);
    expect(items[0].classList.contains("unread")).toBe(true);
    expect(seen.find((r) => r[0] === "POST")).toEqual(["POST", "/api/v1/me/notifications/read", '{"ids":[5]}']);
    q(root, "mark-all-read")!.click();
    await settle();
    expect(seen.at(-1)).toEqual(["POST", "/api/v1/me/notifications/read", "{}"]);
    expect(root.querySelectorAll(".notif.unread")).toHaveLength(0);
  });
});

describe("upload", () => {
  it("offers my channels, the one asked for chosen", async () => {
    serve({
      "GET /api/v1/me": () => Response.json(alice),
      "OPTIONS /api/v1/uploads": () => new Response(null, { status: 204 }),
      "GET /api/v1/me/channels": () =>
        Response.json({
          items: ["first", "second"].map((handle) => ({ id: handle, handle, display_name: handle.toUpperCase(), description: "", links: [], created_at: "2026-11-23T00:00:00Z", subscribers: 0, views: 0, mine: true })),
        }),
    });
    const root = document.createElement("main");
    cleanup = await upload(root, [], new URL("http://k.test/upload?channel=second"));
    const select = root.querySelector<HTMLSelectElement>("select[data-testid=channel]")!;
    expect([...select.options].map((o) => o.value)).toEqual(["first", "second"]);
    expect(select.value).toBe("second");
  });
});

describe("problems and limits", () => {
  it("read Retry-After and put problems in words", () => {
    expect(retryAfterSecs("30")).toBe(30);
    expect(retryAfterSecs(" 5 ")).toBe(5);
    expect(retryAfterSecs("Wed, 21 Oct 2015 07:28:00 GMT")).toBeNull();
    expect(retryAfterSecs(null)).toBeNull();
    expect(problemText(new ApiError(429, "too_many_actions", "", 12))).toBe("That was too many actions in a row; try again in 12 s.");
    expect(problemText(new ApiError(429, "too_many_actions", ""))).toBe("That was too many actions in a row; try again later.");
    expect(problemText(new ApiError(403, "comments_off", "Comments are turned off for this video"))).toBe("Comments are turned off for this video.");
    expect(problemText(new ApiError(409, "last_channel", ""))).toBe("This is your only channel: it cannot be deleted.");
    expect(problemText(new ApiError(400, "invalid_field", "A handle has 3 to 32 characters"))).toBe("Something went wrong: A handle has 3 to 32 characters");
  });

  it("of channels and comments are the document's", () => {
    for (const schema of ["ChannelCreate", "ChannelPatch"]) {
      expect(channelLimits.handle.max, schema).toBe(property(schema, "handle").maxLength);
      expect(channelLimits.displayName, schema).toBe(property(schema, "display_name").maxLength);
      expect(channelLimits.description, schema).toBe(property(schema, "description").maxLength);
      expect(channelLimits.links, schema).toBe(property(schema, "links").maxItems);
    }
    expect(channelLimits.handle.min).toBe(property("ChannelCreate", "handle").minLength);
    expect(channelLimits.linkTitle).toBe(property("LinkJson", "title").maxLength);
    expect(channelLimits.linkUrl).toBe(property("LinkJson", "url").maxLength);
    expect(commentLimits).toEqual({ min: property("NewComment", "body").minLength, max: property("NewComment", "body").maxLength });
    for (const n of [channelLimits.handle.min, channelLimits.handle.max, channelLimits.displayName, channelLimits.links, commentLimits.max]) expect(n).toBeGreaterThan(0);
  });
});
