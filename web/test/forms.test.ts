// @vitest-environment happy-dom
// The account, moderation and "my videos" forms: their limits and choices are the OpenAPI
// document's, and they send what it describes.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setToken, type User, type Video } from "../src/api";
import { loginPage, registerPage } from "../src/pages/auth";
import { mine } from "../src/pages/mine";
import { moderation } from "../src/pages/moderation";
import type { Cleanup } from "../src/router";
import { choices, property } from "./doc";

const user = (role: User["role"]): User => ({ id: "u", username: "alice", role, verified: true, created_at: "2026-11-23T00:00:00Z" });
const video: Video = {
  id: "v1",
  title: "t",
  description: "",
  tags: [],
  privacy: "public",
  status: "ready",
  progress: 100,
  playable: false,
  channel: { id: "c", handle: "h", display_name: "H" },
  is_short: false,
  views: 0,
  likes: 0,
  comments: 0,
  comment_policy: "open",
  created_at: "2026-11-23T00:00:00Z",
  downloadable: true,
};

type Answer = (init: RequestInit) => Response;
let seen: [string, string, string | undefined][];
/** Stubs fetch with an answer per "METHOD path"; anything else fails the request. */
function serve(answers: Record<string, Answer>) {
  seen = [];
  vi.stubGlobal(
    "fetch",
    vi.fn((input: string, init: RequestInit = {}) => {
      const key = `${init.method ?? "GET"} ${input}`;
      seen.push([init.method ?? "GET", input, init.body as string | undefined]);
      const answer = answers[key];
      return answer ? Promise.resolve(answer(init)) : Promise.reject(new Error(`unexpected request ${key}`));
    }),
  );
}
/** Lets the page's pending requests and their continuations run. */
const settle = () => new Promise((ok) => setTimeout(ok, 0));

let cleanup: Cleanup;
beforeEach(() => {
  document.body.replaceChildren();
  cleanup = undefined;
});
afterEach(() => {
  if (typeof cleanup === "function") cleanup();
  vi.unstubAllGlobals();
  setToken(null);
});

describe("account forms", () => {
  const input = (root: HTMLElement, name: string) => root.querySelector<HTMLInputElement>(`input[name=${name}]`)!;

  it("hold a new account to the document's username and password lengths", () => {
    const root = document.createElement("main");
    void registerPage(root, [], new URL("http://k.test/register"));
    for (const name of ["username", "password"]) {
      expect(input(root, name).minLength, name).toBe(property("Register", name).minLength);
      expect(input(root, name).maxLength, name).toBe(property("Register", name).maxLength);
    }
  });

  it("hold signing in only to the longest name the server looks up (Login)", () => {
    const root = document.createElement("main");
    void loginPage(root, [], new URL("http://k.test/login"));
    expect(input(root, "username").maxLength).toBe(property("Login", "username").maxLength);
    expect(input(root, "username").hasAttribute("minlength")).toBe(false);
    expect(property("Login", "password").maxLength).toBeUndefined();
    expect(input(root, "password").hasAttribute("minlength")).toBe(false);
    expect(input(root, "password").hasAttribute("maxlength")).toBe(false);
  });
});

describe("moderation queue", () => {
  beforeEach(() => {
    setToken("mod-token");
    serve({
      "GET /api/v1/me": () => Response.json(user("moderator")),
      "GET /api/v1/moderation/queue": () => Response.json({ items: [video] }),
      "POST /api/v1/moderation/videos/v1/approve": () => Response.json({ ...video, moderation: { state: "approved" } }),
    });
  });

  it("takes the reason's limit from the document", async () => {
    const root = document.createElement("main");
    cleanup = await moderation(root, [], new URL("http://k.test/moderation"));
    await settle();
    const reason = root.querySelector<HTMLInputElement>("[data-testid=reason]");
    expect(reason?.maxLength).toBe(property("Decision", "reason").maxLength);
  });

  it("approves without a body (the document makes it optional)", async () => {
    const root = document.createElement("main");
    cleanup = await moderation(root, [], new URL("http://k.test/moderation"));
    await settle();
    root.querySelector<HTMLButtonElement>("[data-testid=approve]")!.click();
    await settle();
    expect(seen.at(-1)).toEqual(["POST", "/api/v1/moderation/videos/v1/approve", undefined]);
    expect(root.querySelector("[data-testid=mod-item]")).toBeNull();
  });
});

describe("my videos", () => {
  let patches: number;
  beforeEach(() => {
    setToken("owner-token");
    patches = 0;
    serve({
      "GET /api/v1/me": () => Response.json(user("user")),
      "GET /api/v1/me/videos": () => Response.json({ items: [{ ...video }] }),
      // The first change is taken, the second refused.
      "PATCH /api/v1/videos/v1": (init) =>
        patches++ === 0
          ? Response.json({ ...video, ...(JSON.parse(init.body as string) as object) })
          : Response.json({ type: "about:blank", title: "Unavailable", status: 503, code: "unavailable" }, { status: 503 }),
    });
  });

  it("offers the document's visibilities and sends the one chosen, back to the last saved when refused", async () => {
    const root = document.createElement("main");
    cleanup = await mine(root, [], new URL("http://k.test/me"));
    await settle();
    const select = root.querySelector<HTMLSelectElement>("select[data-testid=privacy]")!;
    expect([...select.options].map((o) => o.value)).toEqual(choices("VideoPatch", "privacy"));
    expect(select.value).toBe("public");

    select.value = "unlisted";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(seen.at(-1)).toEqual(["PATCH", "/api/v1/videos/v1", '{"privacy":"unlisted"}']);

    select.value = "private";
    select.dispatchEvent(new Event("change"));
    await settle();
    expect(seen.at(-1)).toEqual(["PATCH", "/api/v1/videos/v1", '{"privacy":"private"}']);
    expect(select.value).toBe("unlisted");
  });
});
