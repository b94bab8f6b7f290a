// The API client: URLs from the document's path templates, and calls typed by the document
// (the @ts-expect-error lines are checked by `tsc --noEmit` in `npm run build`).
import { afterEach, describe, expect, it, vi } from "vitest";
import { apiUrl, call, currentUser, field, get, login, putPicture, token, type Answer, type PathOf, type TokenJson, type Video } from "../src/api";

describe("API URLs", () => {
  it("fill each parameter in as one encoded segment and append the set query values", () => {
    expect(apiUrl("/api/v1/videos/{id}", { id: "abc" })).toBe("/api/v1/videos/abc");
    expect(apiUrl("/api/v1/channels/{handle}/videos", { handle: "a/b?c" }, { cursor: "x y", limit: 10, q: undefined })).toBe(
      "/api/v1/channels/a%2Fb%3Fc/videos?cursor=x+y&limit=10",
    );
    expect(() => apiUrl("/api/v1/videos/{id}", {})).toThrow(/no value for \{id\}/);
    expect(() => apiUrl("/api/v1/videos/{id}", { id: ".." })).toThrow(/not a path segment/);
  });

  it("read fields of problem bodies without trusting their shape", () => {
    expect(field({ code: "not_found" }, "code")).toBe("not_found");
    expect(field({ code: 3 }, "code")).toBeUndefined();
    expect(field(null, "code")).toBeUndefined();
    expect(field("code", "code")).toBeUndefined();
  });
});

describe("API calls", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("send the method, path, query and body the document describes", async () => {
    const seen: [string, string, string | undefined][] = [];
    vi.stubGlobal("localStorage", { getItem: () => null, setItem: () => {}, removeItem: () => {} });
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string, init: RequestInit) => {
        seen.push([init.method ?? "", url, init.body as string | undefined]);
        return Promise.resolve(init.method === "DELETE" ? new Response(null, { status: 204 }) : Response.json({ items: [] }));
      }),
    );
    await get("/api/v1/search", { query: { q: "кот", limit: 5 } });
    await call("patch", "/api/v1/videos/{id}", { path: { id: "v1" }, body: { privacy: "private" } });
    expect(await call("delete", "/api/v1/videos/{id}", { path: { id: "v1" } })).toBeUndefined();
    expect(seen).toEqual([
      ["GET", "/api/v1/search?q=%D0%BA%D0%BE%D1%82&limit=5", undefined],
      ["PATCH", "/api/v1/videos/v1", '{"privacy":"private"}'],
      ["DELETE", "/api/v1/videos/v1", undefined],
    ]);
  });

  it("sign in with the document's TokenJson, which also names the account", async () => {
    const store = new Map<string, string>();
    vi.stubGlobal("localStorage", {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => void store.set(k, v),
      removeItem: (k: string) => void store.delete(k),
    });
    const user = { id: "u", username: "alice", role: "moderator", verified: true, created_at: "2026-11-23T00:00:00Z" } as const;
    const answer: TokenJson = { token: "tok", token_type: "Bearer", expires_at: "2026-12-23T00:00:00Z", user };
    const fetch = vi.fn((url: string) => Promise.resolve(url === "/api/v1/auth/token" ? Response.json(answer) : new Response(null, { status: 500 })));
    vi.stubGlobal("fetch", fetch);
    await login("alice", "correct horse");
    expect(token()).toBe("tok");
    // No `GET /api/v1/me`: the answer said who signed in.
    expect(await currentUser()).toEqual(user);
    expect(fetch).toHaveBeenCalledTimes(1);

    fetch.mockImplementation(() => Promise.resolve(Response.json({ ...answer, token: "" })));
    await expect(login("alice", "correct horse")).rejects.toThrow(/without a token/);
    expect(token()).toBe("tok");
    store.clear();
  });

  it("take an answer without a body (a channel's deletion is 202 with none), and send files as they are", async () => {
    const seen: [string, string, string | null][] = [];
    vi.stubGlobal("localStorage", { getItem: () => "tok", setItem: () => {}, removeItem: () => {} });
    vi.stubGlobal(
      "fetch",
      vi.fn((url: string, init: RequestInit) => {
        seen.push([init.method ?? "", url, new Headers(init.headers).get("content-type")]);
        return Promise.resolve(init.method === "DELETE" ? new Response(null, { status: 202 }) : Response.json({ status: "processing", width: 1, height: 1 }, { status: 202 }));
      }),
    );
    expect(await call("delete", "/api/v1/channels/{handle}", { path: { handle: "old" }, query: { confirm: "old" } })).toBeUndefined();
    const png = new Blob([new Uint8Array([0x89, 0x50, 0x4e, 0x47])], { type: "image/png" });
    expect(await putPicture("new", "avatar", png)).toEqual({ status: "processing", width: 1, height: 1 });
    expect(seen).toEqual([
      ["DELETE", "/api/v1/channels/old?confirm=old", null],
      ["PUT", "/api/v1/channels/new/pictures/avatar", "image/png"],
    ]);
  });

  it("turn problem+json into ApiError", async () => {
    vi.stubGlobal("localStorage", { getItem: () => null, setItem: () => {}, removeItem: () => {} });
    vi.stubGlobal("fetch", () =>
      Promise.resolve(Response.json({ type: "about:blank", title: "Not Found", status: 404, code: "not_found", detail: "No such video" }, { status: 404 })),
    );
    await expect(get("/api/v1/videos/{id}", { path: { id: "x" } })).rejects.toMatchObject({ status: 404, code: "not_found", detail: "No such video" });
  });
});

// Compile-time only: what the document does not have does not type-check.
function typeChecks(): void {
  const videoAnswer: Answer<"get", "/api/v1/videos/{id}"> = {} as Video;
  void videoAnswer;
  const ok: PathOf<"patch"> = "/api/v1/videos/{id}";
  void ok;
  // @ts-expect-error: the document has no such path.
  void get("/api/v1/video/{id}", { path: { id: "x" } });
  // @ts-expect-error: the path's parameter is required.
  void get("/api/v1/videos/{id}");
  // @ts-expect-error: GET takes no body.
  void get("/api/v1/videos/{id}", { path: { id: "x" }, body: {} });
  // @ts-expect-error: a query parameter the endpoint does not have.
  void get("/api/v1/videos", { query: { order: "new" } });
  // @ts-expect-error: a field VideoPatch does not have.
  void call("patch", "/api/v1/videos/{id}", { path: { id: "x" }, body: { name: "t" } });
  // @ts-expect-error: the video's fields are the document's.
  void (videoAnswer satisfies Video).thumbnail;
  // @ts-expect-error: the document has no DELETE of this path.
  void call("delete", "/api/v1/me");
  // @ts-expect-error: a visibility the document's enum does not list.
  void call("patch", "/api/v1/videos/{id}", { path: { id: "x" }, body: { privacy: "friends" } });
  // Approving takes a reason or nothing.
  void call("post", "/api/v1/moderation/videos/{id}/approve", { path: { id: "x" } });
  void call("post", "/api/v1/moderation/videos/{id}/approve", { path: { id: "x" }, body: { reason: "fine" } });
  // @ts-expect-error: rejecting needs a body.
  void call("post", "/api/v1/moderation/videos/{id}/reject", { path: { id: "x" } });
  const signedIn: TokenJson = {} as Answer<"post", "/api/v1/auth/token">;
  void signedIn;
}
void typeChecks;
