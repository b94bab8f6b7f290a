// @vitest-environment happy-dom
// The account's pages against a stubbed API: the sign-in page offers a reset only when the
// server sends mail; settings mark the current session and revoke another; the reset page
// sends the token from its link.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setToken, type Me, type Session } from "../src/api";
import { loginPage, resetPage } from "../src/pages/auth";
import { settings } from "../src/pages/settings";

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
  for (let i = 0; i < 5; i++) await new Promise((ok) => setTimeout(ok, 0));
};
const q = (root: ParentNode, testid: string) => root.querySelector<HTMLElement>(`[data-testid=${testid}]`);

const me: Me = {
  id: "u1",
  username: "alice",
  display_name: "Alice",
  bio: "",
  email: "alice@example.org",
  email_verified: false,
  role: "user",
  verified: false,
  history_paused: false,
  storage_used_bytes: 0,
  quota_bytes: null,
  created_at: "2026-11-23T00:00:00Z",
};
const session = (id: string, current: boolean): Session => ({
  id,
  name: "Chrome, Linux",
  user_agent: "Mozilla/5.0",
  created_at: "2026-11-23T00:00:00Z",
  expires_at: "2026-12-23T00:00:00Z",
  current,
  kind: "session",
});

beforeEach(() => {
  document.body.replaceChildren();
  vi.stubGlobal("confirm", () => true);
});
afterEach(() => {
  vi.unstubAllGlobals();
  setToken(null);
});

describe("account pages", () => {
  it("sign-in offers no reset when the server sends no mail", async () => {
    serve({ "GET /api/v1/features": () => Response.json({ mail: false }) });
    const root = document.createElement("main");
    await loginPage(root, [], new URL("http://x/login"));
    await settle();
    expect(q(root, "forgot-link")!.hidden).toBe(true);
  });

  it("settings mark the current session, revoke another, and hide the check mail without mail", async () => {
    setToken("token");
    serve({
      "GET /api/v1/me": () => Response.json(me),
      "GET /api/v1/features": () => Response.json({ mail: false }),
      "GET /api/v1/me/sessions": () => Response.json({ items: [session("s1", true), session("s2", false)] }),
      "GET /api/v1/me/blocks": () => Response.json({ items: [] }),
      "DELETE /api/v1/me/sessions/s2": () => new Response(null, { status: 204 }),
    });
    const root = document.createElement("main");
    document.body.append(root);
    await settings(root, [], new URL("http://x/settings"));
    await settle();
    const rows = [...root.querySelectorAll<HTMLElement>("[data-testid=session]")];
    expect(rows.map((r) => r.dataset.current)).toEqual(["true", "false"]);
    expect(q(rows[0], "session-current")).not.toBeNull();
    expect(q(rows[1], "session-current")).toBeNull();
    q(rows[1], "session-revoke")!.click();
    await settle();
    expect(seen.some(([m, u]) => m === "DELETE" && u === "/api/v1/me/sessions/s2")).toBe(true);
    expect(root.querySelectorAll("[data-testid=session]")).toHaveLength(1);
    expect(q(root, "email-state")!.textContent).toBe("Not confirmed");
    expect(q(root, "email-check")!.hidden).toBe(true);
    // Deleting needs the username typed again and the password.
    const del = root.querySelector<HTMLButtonElement>("[data-testid=account-delete]")!;
    const name = root.querySelector<HTMLInputElement>("[data-testid=delete-username]")!;
    const pass = root.querySelector<HTMLInputElement>("[data-testid=delete-password]")!;
    name.value = "alic";
    name.dispatchEvent(new Event("input"));
    pass.value = "secret";
    pass.dispatchEvent(new Event("input"));
    expect(del.disabled).toBe(true);
    name.value = "alice";
    name.dispatchEvent(new Event("input"));
    expect(del.disabled).toBe(false);
  });

  it("the reset page sends the link's token with the new password", async () => {
    serve({ "POST /api/v1/auth/password-reset/confirm": () => new Response(null, { status: 204 }) });
    const root = document.createElement("main");
    document.body.append(root);
    await resetPage(root, [], new URL("http://x/reset-password?token=abc"));
    root.querySelector<HTMLInputElement>("[data-testid=reset-password]")!.value = "new password!";
    root.querySelector<HTMLInputElement>("[data-testid=reset-again]")!.value = "new password!";
    root.querySelector("form")!.requestSubmit();
    await settle();
    expect(seen[0]).toEqual(["POST", "/api/v1/auth/password-reset/confirm", JSON.stringify({ token: "abc", password: "new password!" })]);
    expect(q(root, "reset-message")!.textContent).toBe("Your password is changed. Sign in with it.");
  });
});
