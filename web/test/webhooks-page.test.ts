// @vitest-environment happy-dom
// The webhooks page against a stubbed API: an endpoint added with the events ticked and its
// secret shown once, a refusal on its field, every user's events for administrators, a disabled
// endpoint said so with a button that enables it, a ping and a redelivery at the top of the log,
// deleting after a confirmation, an edit that sends what changed; and the notification of a
// disabled endpoint leading there.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setToken, type Delivery, type Endpoint, type Notification, type User } from "../src/api";
import { setLang } from "../src/i18n";
import { notificationHref } from "../src/pages/notifications";
import { webhooksPage } from "../src/pages/webhooks";
import type { Cleanup } from "../src/router";
import { delivery, endpoint } from "./webhook-fixtures";

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
  for (let i = 0; i < 10; i++) await new Promise((ok) => setTimeout(ok, 0));
};
const q = <E extends HTMLElement = HTMLElement>(root: ParentNode, testid: string) => root.querySelector<E>(`[data-testid="${testid}"]`);
const user = (role: User["role"]): User => ({ id: "u", username: "alice", role, verified: true, created_at: "2026-11-23T00:00:00Z" });
const posts = (path: string) => seen.filter(([m, p]) => m !== "GET" && p === path).map(([, , b]) => (b ? (JSON.parse(b) as Record<string, unknown>) : null));

let cleanup: Cleanup;
let root: HTMLElement;
async function open(): Promise<void> {
  root = document.createElement("main");
  document.body.append(root);
  cleanup = await webhooksPage(root, [], new URL("http://x/settings/webhooks"));
  await settle();
}
afterEach(() => {
  if (typeof cleanup === "function") cleanup();
  cleanup = undefined;
  vi.unstubAllGlobals();
  setToken(null);
});

beforeEach(() => {
  document.body.replaceChildren();
  setLang("en");
});

describe("the webhooks page", () => {
  it("asks a visitor to sign in", async () => {
    serve({});
    await open();
    expect(q(root, "webhook-signin")!.getAttribute("href")).toBe("/login?next=/settings/webhooks");
    expect(seen).toEqual([]);
  });

  it("adds an endpoint with the events ticked, shows its secret once, and says a refusal on its field", async () => {
    setToken("token");
    let made = 0;
    serve({
      "GET /api/v1/me": () => Response.json(user("user")),
      "GET /api/v1/webhooks": () => Response.json({ items: [] }),
      "POST /api/v1/webhooks": (init) => {
        const body = JSON.parse(init.body as string) as { url: string; events: string[]; description?: string };
        if (body.url.includes("intranet")) return Response.json({ code: "url_not_allowed", title: "Not allowed", detail: "loopback", field: "url" }, { status: 400 });
        made++;
        return Response.json({ ...endpoint({ id: `e${made}`, url: body.url, events: body.events, description: body.description ?? "" }), secret: "whsec_abc" }, { status: 201 });
      },
      "GET /api/v1/webhooks/e1/deliveries": () => Response.json({ items: [] }),
    });
    await open();
    expect(q(root, "webhook-empty")!.hidden).toBe(false);
    // Not an administrator: no "every user's events".
    expect(q(root, "webhook-all-users")).toBeNull();
    const form = q(root, "webhook-add")!.querySelector("form")!;
    const url = q<HTMLInputElement>(form, "webhook-url")!;
    const all = q<HTMLInputElement>(form, "webhook-all-events")!;
    expect(all.checked).toBe(true);
    expect(q(form, "webhook-events")!.hidden).toBe(true);

    // Refused: in words, on the URL. (happy-dom's type=url takes no loopback address.)
    url.value = "http://intranet.example/";
    form.requestSubmit();
    await settle();
    expect(q(form, "webhook-form-message")!.textContent).toMatch(/^Webhooks cannot be sent to this address/);
    expect(url.getAttribute("aria-invalid")).toBe("true");
    expect(document.activeElement).toBe(url);

    // Only some events: none ticked is said so, and nothing is sent.
    all.checked = false;
    all.dispatchEvent(new Event("change"));
    expect(q(form, "webhook-events")!.hidden).toBe(false);
    url.value = "https://cms.example.org/hooks/kadr";
    const before = seen.length;
    form.requestSubmit();
    await settle();
    expect(seen.length).toBe(before);
    expect(q(form, "webhook-form-message")!.textContent).toBe("Choose at least one event, or all events.");
    q<HTMLInputElement>(form, "webhook-event-video.ready")!.checked = true;
    q<HTMLInputElement>(form, "webhook-event-video.created")!.checked = true;
    q<HTMLInputElement>(form, "webhook-description")!.value = "  newsroom  ";
    form.requestSubmit();
    await settle();
    expect(posts("/api/v1/webhooks").at(-1)).toEqual({ url: "https://cms.example.org/hooks/kadr", events: ["video.created", "video.ready"], description: "newsroom" });
    expect(url.hasAttribute("aria-invalid")).toBe(false);

    // The new endpoint with its secret, once; the form empty again.
    const card = q(root, "webhook")!;
    expect(card.dataset.webhookId).toBe("e1");
    expect(q<HTMLInputElement>(card, "webhook-secret")!.value).toBe("whsec_abc");
    expect(q<HTMLInputElement>(card, "webhook-secret")!.readOnly).toBe(true);
    expect(q(card, "webhook-secret-note")!.textContent).toContain("you won't see it again");
    expect(document.activeElement).toBe(q(card, "webhook-secret"));
    expect(q(card, "webhook-events-text")!.textContent).toBe("Events: video.created, video.ready");
    expect(q(card, "webhook-description-text")!.textContent).toBe("newsroom");
    expect(url.value).toBe("");
    expect(q(root, "webhook-empty")!.hidden).toBe(true);
    q(card, "webhook-secret-done")!.click();
    expect(q(card, "webhook-secret")).toBeNull();
    // Its log was opened and asked for.
    expect(seen.some(([m, p]) => m === "GET" && p.startsWith("/api/v1/webhooks/e1/deliveries"))).toBe(true);
    expect(q(card, "delivery-status")!.textContent).toBe("Nothing sent yet. Send a test ping to try the endpoint.");
  });

  it("offers administrators every user's events", async () => {
    setToken("token");
    serve({
      "GET /api/v1/me": () => Response.json(user("admin")),
      "GET /api/v1/webhooks": () => Response.json({ items: [] }),
      "POST /api/v1/webhooks": (init) => Response.json({ ...endpoint({ all_users: true, url: (JSON.parse(init.body as string) as { url: string }).url }), secret: "whsec_x" }, { status: 201 }),
      "GET /api/v1/webhooks/e1/deliveries": () => Response.json({ items: [] }),
    });
    await open();
    const form = q(root, "webhook-add")!.querySelector("form")!;
    q<HTMLInputElement>(form, "webhook-url")!.value = "https://all.example/";
    q<HTMLInputElement>(form, "webhook-all-users")!.checked = true;
    form.requestSubmit();
    await settle();
    expect(posts("/api/v1/webhooks")).toEqual([{ url: "https://all.example/", events: ["*"], all_users: true }]);
    expect(q(root, "webhook-all-users-badge")!.textContent).toBe("All users");
  });

  it("says why an endpoint is off, and enables it again", async () => {
    setToken("token");
    const off = endpoint({ enabled: false, disabled_by: "failures", disabled_reason: "every delivery failed for 24 h (last: HTTP 500)", disabled_at: "2026-11-24T10:00:00Z", failing_since: "2026-11-23T10:00:00Z" });
    serve({
      "GET /api/v1/me": () => Response.json(user("user")),
      "GET /api/v1/webhooks": () => Response.json({ items: [off, endpoint({ id: "e2", url: "https://b.example/", failing_since: "2026-11-23T10:00:00Z", previous_secret_until: "2026-11-25T10:00:00Z" })] }),
      "PATCH /api/v1/webhooks/e1": () => Response.json(endpoint()),
      "GET /api/v1/webhooks/e1/deliveries": () => Response.json({ items: [] }),
    });
    await open();
    const [first, second] = root.querySelectorAll<HTMLElement>("[data-testid=webhook]");
    expect(first.dataset.enabled).toBe("false");
    expect(q(first, "webhook-state")!.textContent).toBe("Disabled");
    expect(q(first, "webhook-disabled")!.dataset.cause).toBe("failures");
    expect(q(first, "webhook-disabled")!.textContent).toContain("every delivery to it failed for too long");
    expect(q(first, "webhook-disabled-reason")!.textContent).toBe("Reason: every delivery failed for 24 h (last: HTTP 500)");
    expect(q(first, "webhook-disabled-reason")!.querySelector("bdi")!.getAttribute("dir")).toBe("ltr");
    expect(q<HTMLButtonElement>(first, "webhook-ping")!.disabled).toBe(true);
    expect(q(first, "webhook-disable")!.hidden).toBe(true);
    // The other: on, but failing; and a rotation's overlap.
    expect(q(second, "webhook-failing")!.textContent).toMatch(/^Every attempt to reach it has failed since .*2026/);
    expect(q(second, "webhook-failing")!.querySelector("time")!.getAttribute("datetime")).toBe("2026-11-23T10:00:00Z");
    expect(q(second, "webhook-previous")!.textContent).toMatch(/^After the rotation, the previous secret also signs until .*2026.*\.$/);
    // Two endpoints: the logs wait to be opened.
    expect(seen.some(([, p]) => p.includes("/deliveries"))).toBe(false);

    q(first, "webhook-enable")!.click();
    await settle();
    expect(posts("/api/v1/webhooks/e1")).toEqual([{ enabled: true }]);
    expect(first.dataset.enabled).toBe("true");
    expect(q(first, "webhook-disabled")).toBeNull();
    expect(q(first, "webhook-message")!.textContent).toBe("The endpoint is enabled again.");
    expect(q<HTMLButtonElement>(first, "webhook-ping")!.disabled).toBe(false);
  });

  it("pings and redelivers: each new delivery at the top of the log, said in the counts", async () => {
    setToken("token");
    let log: Delivery[] = [delivery("d1", { state: "failed", attempts: 3, last_status: 500, last_error: "HTTP 500", last_duration_ms: 1340 })];
    serve({
      "GET /api/v1/me": () => Response.json(user("user")),
      "GET /api/v1/webhooks": () => Response.json({ items: [endpoint()] }),
      "GET /api/v1/webhooks/e1": () => Response.json(endpoint()),
      "GET /api/v1/webhooks/e1/deliveries": () => Response.json({ items: log }),
      "POST /api/v1/webhooks/e1/ping": () => {
        const d = delivery("d2", { event_type: "ping", state: "pending", attempts: 0, last_status: null, delivered_at: null, created_at: "2026-11-23T10:01:00Z" });
        log = [d, ...log];
        return Response.json(d, { status: 202 });
      },
      "POST /api/v1/webhooks/e1/deliveries/d1/redeliver": () => {
        const d = delivery("d3", { event_id: "ev-d1", state: "pending", attempts: 0, last_status: null, delivered_at: null, redelivery_of: "d1", created_at: "2026-11-23T10:02:00Z" });
        log = [d, ...log];
        return Response.json(d, { status: 202 });
      },
    });
    await open();
    const card = q(root, "webhook")!;
    // One endpoint: its log at once.
    expect(q<HTMLDetailsElement>(card, "webhook-log")!.open).toBe(true);
    const rows = () => [...card.querySelectorAll<HTMLElement>("[data-testid=delivery]")];
    expect(rows().map((r) => r.dataset.deliveryId)).toEqual(["d1"]);
    const first = rows()[0];
    expect(q(first, "delivery-state")!.textContent).toBe("Failed");
    expect(q(first, "delivery-code")!.textContent).toBe("500");
    expect(q(first, "delivery-error")!.textContent).toBe("HTTP 500");
    expect(q(first, "delivery-attempts")!.textContent).toBe("3");
    expect(q(first, "delivery-duration")!.textContent).toBe("1.3 s");
    expect(first.querySelector("time")!.getAttribute("datetime")).toBe("2026-11-23T10:00:00Z");
    expect(q(card, "delivery-counts")!.textContent).toBe("Delivered: 0 · pending: 0 · failed: 1");
    expect(q(card, "delivery-counts")!.getAttribute("role")).toBe("status");

    q(card, "webhook-ping")!.click();
    await settle();
    expect(rows().map((r) => r.dataset.deliveryId)).toEqual(["d2", "d1"]);
    expect(q(rows()[0], "delivery-type")!.textContent).toBe("ping");
    expect(rows()[0].classList.contains("fresh")).toBe(true);
    expect(q(card, "webhook-message")!.textContent).toBe("A ping is on its way: follow it in the deliveries.");

    q(rows()[1], "delivery-redeliver")!.click();
    await settle();
    expect(rows().map((r) => r.dataset.deliveryId)).toEqual(["d3", "d2", "d1"]);
    expect(q(rows()[0], "delivery-redelivery")!.textContent).toBe("Redelivery");
    expect(rows()[0].dataset.eventId).toBe("ev-d1");
    expect(q(card, "delivery-counts")!.textContent).toBe("Delivered: 0 · pending: 2 · failed: 1");
    expect(q(rows()[2], "delivery-redeliver")!.getAttribute("aria-label")).toMatch(/^Redeliver video.created, created /);
  });

  it("deletes an endpoint only once confirmed", async () => {
    setToken("token");
    serve({
      "GET /api/v1/me": () => Response.json(user("user")),
      "GET /api/v1/webhooks": () => Response.json({ items: [endpoint(), endpoint({ id: "e2", url: "https://b.example/" })] }),
      "DELETE /api/v1/webhooks/e1": () => new Response(null, { status: 204 }),
    });
    await open();
    const card = q(root, "webhook")!;
    q(card, "webhook-delete")!.click();
    let dialog = q(document, "webhook-confirm")!;
    expect(dialog.textContent).toContain("https://cms.example.org/hooks/kadr gets no more events");
    // "No" first: nothing is deleted.
    expect(document.activeElement).toBe(q(dialog, "confirm-no"));
    q(dialog, "confirm-no")!.click();
    await settle();
    expect(seen.some(([m]) => m === "DELETE")).toBe(false);
    q(card, "webhook-delete")!.click();
    dialog = q(document, "webhook-confirm")!;
    q(dialog, "confirm-yes")!.click();
    await settle();
    expect(seen.filter(([m]) => m === "DELETE").map(([, p]) => p)).toEqual(["/api/v1/webhooks/e1"]);
    expect(card.isConnected).toBe(false);
    expect(q(root, "webhook-page-status")!.textContent).toBe("The endpoint https://cms.example.org/hooks/kadr is deleted.");
    expect(root.querySelectorAll("[data-testid=webhook]")).toHaveLength(1);
  });

  it("edits only what changed", async () => {
    setToken("token");
    serve({
      "GET /api/v1/me": () => Response.json(user("user")),
      "GET /api/v1/webhooks": () => Response.json({ items: [endpoint({ events: ["video.ready"] }), endpoint({ id: "e2" })] }),
      "PATCH /api/v1/webhooks/e1": (init) => Response.json(endpoint({ ...(JSON.parse(init.body as string) as Partial<Endpoint>) })),
    });
    await open();
    const card = q(root, "webhook")!;
    q(card, "webhook-edit")!.click();
    expect(q(card, "webhook-edit")!.getAttribute("aria-expanded")).toBe("true");
    const form = card.querySelector("form")!;
    expect(q<HTMLInputElement>(form, "webhook-url")!.value).toBe("https://cms.example.org/hooks/kadr");
    expect(q<HTMLInputElement>(form, "webhook-all-events")!.checked).toBe(false);
    expect(q<HTMLInputElement>(form, "webhook-event-video.ready")!.checked).toBe(true);
    q<HTMLInputElement>(form, "webhook-event-video.failed")!.checked = true;
    q<HTMLInputElement>(form, "webhook-description")!.value = "Новостная CMS";
    form.requestSubmit();
    await settle();
    expect(posts("/api/v1/webhooks/e1")).toEqual([{ description: "Новостная CMS", events: ["video.ready", "video.failed"] }]);
    expect(card.querySelector("form")).toBeNull();
    expect(q(card, "webhook-events-text")!.textContent).toBe("Events: video.ready, video.failed");
    expect(q(card, "webhook-message")!.textContent).toBe("Saved.");
  });
});

describe("notifications", () => {
  it("a disabled endpoint's notification leads to the webhooks page", () => {
    const n: Notification = { id: 1, type: "webhook_disabled", created_at: "2026-11-23T00:00:00Z", read: false, data: { url: "https://x.example/" } };
    expect(notificationHref(n)).toBe("/settings/webhooks");
  });
});
