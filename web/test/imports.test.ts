// @vitest-environment happy-dom
// The import page and the token form against a stubbed API: each pasted address asked for with
// the CLI's external id and the form's visibility, a refusal said in words, an address imported
// before marked as such; an import's line in a report; the scopes a role is offered; a token's
// request, shown once.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setToken, type ImportView, type Me, type Session } from "../src/api";
import { setLang } from "../src/i18n";
import { importFailureText, scopeText, sessionKindText } from "../src/messages";
import { importPage, reportOf } from "../src/pages/imports";
import { offeredScopes, settings } from "../src/pages/settings";

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
const settle = async () => {
  for (let i = 0; i < 8; i++) await new Promise((ok) => setTimeout(ok, 0));
};
const q = (root: ParentNode, testid: string) => root.querySelector<HTMLElement>(`[data-testid=${testid}]`);

const view = (over: Partial<ImportView> = {}): ImportView => ({
  id: "i1",
  video_id: "v1",
  external_id: "https://a.example/1.mp4",
  source: "url",
  url: "https://a.example/1.mp4",
  state: "queued",
  bytes_done: 0,
  bytes_total: null,
  video_status: "awaiting_upload",
  created_at: "2026-12-01T00:00:00Z",
  updated_at: "2026-12-01T00:00:00Z",
  ...over,
});

const me: Me = {
  id: "u1",
  username: "alice",
  display_name: "Alice",
  bio: "",
  email: "alice@example.org",
  email_verified: true,
  role: "user",
  verified: false,
  history_paused: false,
  storage_used_bytes: 0,
  quota_bytes: null,
  created_at: "2026-11-23T00:00:00Z",
};

beforeEach(() => {
  document.body.replaceChildren();
  setLang("en");
});
afterEach(() => {
  vi.unstubAllGlobals();
  setToken(null);
});

describe("an import in a report", () => {
  it("is imported once fetched (skipped when it was there before), queued while going, failed with the code in words", () => {
    expect(reportOf(view({ state: "fetched" }), "3", false)).toEqual({ line: "3", external_id: "https://a.example/1.mp4", video_id: "v1", status: "imported", code: "", message: "Fetched" });
    expect(reportOf(view({ state: "fetched" }), "3", true).status).toBe("skipped");
    expect(reportOf(view({ state: "fetching", bytes_done: 10 }), "", false)).toMatchObject({ status: "queued", message: "Fetching" });
    expect(reportOf(view({ state: "failed", failure: { code: "source_unavailable", message: "HTTP 404" } }), "4", false)).toMatchObject({
      status: "failed",
      code: "source_unavailable",
      message: "The file could not be fetched: the site did not give it.",
    });
    // Fetched, then failed by the worker: its code.
    expect(reportOf(view({ state: "fetched", failure: { code: "not_a_video" } }), "5", false)).toMatchObject({ status: "failed", code: "not_a_video", message: "The file was fetched but could not be processed: not_a_video" });
  });

  it("failures in each language", () => {
    expect(importFailureText("url_not_allowed")).toMatch(/^This address cannot be imported from/);
    setLang("ru");
    expect(importFailureText("fetch_timed_out")).toBe("Скачивание файла заняло слишком много времени.");
    expect(importFailureText("weird_code", "details")).toBe("Ошибка: details");
    setLang("ar");
    expect(importFailureText("source_too_large")).toBe("الملف أكبر مما يقبله هذا الخادم.");
  });
});

describe("the import page", () => {
  it("asks for each pasted address with its external id and the visibility chosen, says a refusal, marks an earlier import", async () => {
    setToken("token");
    let created = false;
    serve({
      "GET /api/v1/me": () => Response.json(me),
      "GET /api/v1/me/channels": () => Response.json({ items: [{ handle: "alice", display_name: "Alice" }] }),
      "GET /api/v1/imports": () => Response.json({ items: [] }),
      "POST /api/v1/videos/import": (init) => {
        const body = JSON.parse(init.body as string) as { url: string };
        if (body.url.includes("127.0.0.1")) return Response.json({ code: "url_not_allowed", title: "Not allowed", detail: "loopback addresses are not reachable from Kadr" }, { status: 400 });
        const status = created ? 200 : 202;
        created = true;
        return Response.json(view({ state: "fetched", bytes_done: 2048, bytes_total: 2048, video_status: "processing" }), { status });
      },
    });
    const root = document.createElement("main");
    document.body.append(root);
    await importPage(root, [], new URL("http://x/import"));
    await settle();
    const urls = root.querySelector<HTMLTextAreaElement>("[data-testid=import-urls]")!;
    const privacy = root.querySelector<HTMLSelectElement>("[data-testid=import-privacy]")!;
    // One channel: nothing to choose.
    expect(q(root, "import-channel")).toBeNull();
    privacy.value = "unlisted";
    urls.value = "https://a.example/1.mp4\n\nhttp://127.0.0.1:1/x\n";
    root.querySelector<HTMLFormElement>("form.import-form")!.requestSubmit();
    await settle();
    const posts = seen.filter(([m]) => m === "POST").map(([, , b]) => JSON.parse(b!) as Record<string, unknown>);
    expect(posts).toEqual([
      { url: "https://a.example/1.mp4", external_id: "https://a.example/1.mp4", privacy: "unlisted", channel: null, batch: null },
      { url: "http://127.0.0.1:1/x", external_id: "http://127.0.0.1:1/x", privacy: "unlisted", channel: null, batch: null },
    ]);
    const row = (line: number) => root.querySelector<HTMLElement>(`[data-testid=run-row][data-line="${line}"]`)!;
    expect(q(row(1), "import-state")!.dataset.state).toBe("fetched");
    expect(q(row(1), "import-bytes")!.textContent).toBe("2.0 KB of 2.0 KB");
    expect(q(row(1), "import-already")).toBeNull();
    expect(q(row(1), "import-watch")!.getAttribute("href")).toBe("/watch/v1");
    expect(q(row(3), "import-error")!.textContent).toMatch(/^This address cannot be imported from/);
    expect(q(root, "run-counts")!.textContent).toBe("Done: 1 · waiting: 0 · failed: 1");

    // Again: the server answers with the import it has.
    root.querySelector<HTMLFormElement>("form.import-form")!.requestSubmit();
    await settle();
    expect(q(row(1), "import-already")!.textContent).toBe("Already imported");
  });

  it("asks to sign in first", async () => {
    serve({});
    const root = document.createElement("main");
    await importPage(root, [], new URL("http://x/import"));
    expect(root.querySelector("a")!.getAttribute("href")).toBe("/login?next=/import");
  });
});

describe("tokens", () => {
  it("offer moderation to moderators and administration to administrators only", () => {
    expect(offeredScopes("user")).toEqual(["read", "upload", "manage", "interact", "webhooks"]);
    expect(offeredScopes("moderator")).toEqual(["read", "upload", "manage", "interact", "moderate", "webhooks"]);
    expect(offeredScopes("admin")).toEqual(["read", "upload", "manage", "interact", "moderate", "admin", "webhooks"]);
    expect(scopeText("upload")).toBe("upload and import videos");
    expect(scopeText("future")).toBe("future");
    expect(sessionKindText("integration")).toBe("Integration token");
    expect(sessionKindText("session")).toBe("Signed in");
  });

  it("are made from settings with what was ticked, shown once, and listed with their scopes", async () => {
    setToken("token");
    const made: Session = { id: "t1", name: "nightly", user_agent: "", created_at: "2026-12-01T00:00:00Z", expires_at: "2026-12-31T00:00:00Z", current: false, kind: "integration", scopes: ["read", "upload"] };
    let sessions: Session[] = [{ id: "s1", name: "Chrome, Linux", user_agent: "Mozilla/5.0", created_at: "2026-12-01T00:00:00Z", expires_at: "2026-12-31T00:00:00Z", current: true, kind: "session" }];
    serve({
      "GET /api/v1/me": () => Response.json(me),
      "GET /api/v1/features": () => Response.json({ mail: false }),
      "GET /api/v1/me/sessions": () => Response.json({ items: sessions }),
      "GET /api/v1/me/blocks": () => Response.json({ items: [] }),
      "POST /api/v1/me/tokens": () => {
        sessions = [...sessions, made];
        return Response.json({ id: "t1", token: "kadr_secret", name: "nightly", kind: "integration", scopes: ["read", "upload"], expires_at: "2026-12-31T00:00:00Z" }, { status: 201 });
      },
    });
    const root = document.createElement("main");
    document.body.append(root);
    await settings(root, [], new URL("http://x/settings"));
    await settle();
    expect(q(root, "token-scope-moderate")).toBeNull();
    root.querySelector<HTMLInputElement>("[data-testid=token-name]")!.value = " nightly ";
    root.querySelector<HTMLInputElement>("[data-testid=token-kind-integration]")!.checked = true;
    root.querySelector<HTMLInputElement>("[data-testid=token-scope-upload]")!.checked = true;
    root.querySelector<HTMLInputElement>("[data-testid=token-days]")!.value = "30";
    const form = q(root, "token-make")!.closest("form")!;
    form.requestSubmit();
    await settle();
    const post = seen.find(([m, u]) => m === "POST" && u === "/api/v1/me/tokens")!;
    expect(JSON.parse(post[2]!)).toEqual({ name: "nightly", kind: "integration", scopes: ["read", "upload"], expires_in_days: 30 });
    expect(root.querySelector<HTMLInputElement>("[data-testid=token-value]")!.value).toBe("kadr_secret");
    expect(q(root, "token-warning")!.textContent).toBe("The token “nightly” is made. Copy it now: it will not be shown again.");
    const rows = [...root.querySelectorAll<HTMLElement>("[data-testid=session]")];
    expect(rows).toHaveLength(2);
    expect(q(rows[1], "session-kind")!.textContent).toBe("Integration token");
    expect(q(rows[1], "session-scopes")!.textContent).toBe("May: read everything the account may see, upload and import videos");
    expect(q(rows[0], "session-scopes")).toBeNull();

    // The name is asked anew; nothing ticked: not sent.
    expect(root.querySelector<HTMLInputElement>("[data-testid=token-name]")!.value).toBe("");
    root.querySelector<HTMLInputElement>("[data-testid=token-name]")!.value = "other";
    for (const box of root.querySelectorAll<HTMLInputElement>("input[name=token-scope]")) box.checked = false;
    const before = seen.length;
    form.requestSubmit();
    await settle();
    expect(seen.length).toBe(before);
    expect(q(root, "token-message")!.textContent).toBe("Tick at least one thing it may do.");
  });
});
