// @vitest-environment happy-dom
// The playlist page, the "Save" dialog and the report dialog against a stubbed API: what they
// send, what they show at once, and going back when the server refuses.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setToken, type Playlist, type Video } from "../src/api";
import { playlist } from "../src/pages/playlists";
import { saveDialog } from "../src/playlists";
import type { Cleanup } from "../src/router";
import { reportDialog } from "../src/safety";

type Answer = (init: RequestInit, url: string) => Response | Promise<Response>;
let seen: [string, string, string | undefined][];
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
const problem = (status: number, code: string) => Response.json({ type: `urn:kadr:problem:${code}`, title: code, status, code }, { status });
const settle = () => new Promise((ok) => setTimeout(ok, 0));
const q = (root: ParentNode, testid: string) => root.querySelector<HTMLElement>(`[data-testid=${testid}]`);
const XSS = '<img src=x onerror="window.__xss=1">';

const list = (over: Partial<Playlist> = {}): Playlist => ({
  id: "p1",
  title: "Mine",
  description: "",
  privacy: "private",
  watch_later: false,
  count: 3,
  owner: { id: "u1", username: "alice" },
  mine: true,
  created_at: "2026-11-23T00:00:00Z",
  updated_at: "2026-11-23T00:00:00Z",
  ...over,
});
const video = (id: string): Video =>
  ({
    id,
    title: `Video ${id}`,
    channel: { id: "c1", handle: "alice", display_name: "Alice" },
    views: 0,
    likes: 0,
    comments: 0,
    status: "ready",
    privacy: "public",
    playable: true,
    progress: 100,
    created_at: "2026-11-23T00:00:00Z",
    is_short: false,
    comment_policy: "open",
    description: "",
    tags: [],
  }) as unknown as Video;

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

const order = (root: ParentNode) => [...root.querySelectorAll<HTMLElement>("[data-testid=entry]")].map((e) => e.dataset.videoId);

describe("a playlist's page", () => {
  it("moves an entry down at once and tells the server which one it now follows", async () => {
    let refuse = false;
    serve({
      "GET /api/v1/playlists/p1": () => Response.json(list({ title: XSS })),
      "GET /api/v1/playlists/p1/videos": () => Response.json({ items: [video("a"), video("b"), video("c")] }),
      "POST /api/v1/playlists/p1/videos/a/move": () => (refuse ? problem(403, "forbidden") : new Response(null, { status: 204 })),
      "POST /api/v1/playlists/p1/videos/c/move": () => new Response(null, { status: 204 }),
    });
    const root = document.createElement("main");
    document.body.append(root);
    cleanup = await playlist(root, ["p1"], new URL("http://x/playlist/p1"));
    expect(order(root)).toEqual(["a", "b", "c"]);
    expect(q(root, "playlist-title")!.textContent).toBe(XSS);
    expect(root.querySelectorAll("img[src=x]")).toHaveLength(0);
    // The first cannot go up, the last cannot go down.
    expect(root.querySelector<HTMLButtonElement>("[data-video-id=a] [data-testid=entry-up]")!.disabled).toBe(true);
    expect(root.querySelector<HTMLButtonElement>("[data-video-id=c] [data-testid=entry-down]")!.disabled).toBe(true);
    root.querySelector<HTMLElement>("[data-video-id=a] [data-testid=entry-down]")!.click();
    expect(order(root)).toEqual(["b", "a", "c"]);
    await settle();
    expect(seen.at(-1)).toEqual(["POST", "/api/v1/playlists/p1/videos/a/move", JSON.stringify({ after: "b" })]);
    // To the top: after nothing.
    root.querySelector<HTMLElement>("[data-video-id=c] [data-testid=entry-up]")!.click();
    root.querySelector<HTMLElement>("[data-video-id=c] [data-testid=entry-up]")!.click();
    await settle();
    expect(order(root)).toEqual(["c", "b", "a"]);
    expect(seen.at(-1)).toEqual(["POST", "/api/v1/playlists/p1/videos/c/move", JSON.stringify({ after: null })]);
    // Refused: back as it was, and said.
    refuse = true;
    root.querySelector<HTMLElement>("[data-video-id=a] [data-testid=entry-up]")!.click();
    expect(order(root)).toEqual(["c", "a", "b"]);
    await settle();
    await settle();
    expect(order(root)).toEqual(["c", "b", "a"]);
    expect(q(root, "playlist-error")!.hidden).toBe(false);
  });

  it("offers no reordering to others", async () => {
    serve({
      "GET /api/v1/playlists/p1": () => Response.json(list({ mine: false, privacy: "public" })),
      "GET /api/v1/playlists/p1/videos": () => Response.json({ items: [video("a"), video("b")] }),
    });
    const root = document.createElement("main");
    cleanup = await playlist(root, ["p1"], new URL("http://x/playlist/p1"));
    expect(order(root)).toEqual(["a", "b"]);
    expect(root.querySelector("[data-testid=entry-up], [data-testid=entry-remove], [data-testid=playlist-edit]")).toBeNull();
    expect(q(root, "play-all")!.getAttribute("href")).toBe("/watch/a?list=p1");
  });
});

describe("the Save dialog", () => {
  it("ticks where the video is; a tick adds it, an untick removes it", async () => {
    serve({
      "GET /api/v1/me/playlists": () => Response.json({ items: [list({ id: "wl", watch_later: true, title: "Watch later", contains: false }), list({ contains: true })] }),
      "PUT /api/v1/playlists/wl/videos/v1": () => Response.json({ playlist_id: "wl", video_id: "v1", added: true }),
      "DELETE /api/v1/playlists/p1/videos/v1": () => new Response(null, { status: 204 }),
    });
    saveDialog("v1");
    await settle();
    expect(seen[0][1]).toBe("/api/v1/me/playlists?video=v1&limit=100");
    const boxes = [...document.querySelectorAll<HTMLInputElement>("[data-testid=save-check]")];
    expect(boxes.map((b) => b.checked)).toEqual([false, true]);
    boxes[0].click();
    boxes[1].click();
    await settle();
    expect(seen.slice(1).map(([m, u]) => `${m} ${u}`)).toEqual(["PUT /api/v1/playlists/wl/videos/v1", "DELETE /api/v1/playlists/p1/videos/v1"]);
  });
});

describe("the report dialog", () => {
  it("sends the chosen reason and the details; a second report is told apart", async () => {
    let again = false;
    serve({ "POST /api/v1/reports": () => (again ? problem(409, "already_reported") : Response.json({ id: "r1" }, { status: 201 })) });
    reportDialog("comment", "c1");
    const dialog = q(document, "report-dialog")!;
    dialog.querySelector<HTMLInputElement>("[data-testid=reason-spam]")!.checked = true;
    dialog.querySelector<HTMLTextAreaElement>("[data-testid=report-details]")!.value = "  buy now  ";
    dialog.querySelector("form")!.requestSubmit();
    await settle();
    expect(JSON.parse(seen[0][2]!)).toEqual({ target_type: "comment", target_id: "c1", reason: "spam", details: "buy now" });
    await settle();
    expect(q(dialog, "report-done")).not.toBeNull();
    again = true;
    reportDialog("video", "v1");
    const second = [...document.querySelectorAll<HTMLElement>("[data-testid=report-dialog]")].at(-1)!;
    second.querySelector<HTMLInputElement>("[data-testid=reason-other]")!.checked = true;
    second.querySelector("form")!.requestSubmit();
    await settle();
    await settle();
    expect(q(second, "report-error")!.textContent).toBe("You have already reported this; moderators will look at it.");
  });
});
