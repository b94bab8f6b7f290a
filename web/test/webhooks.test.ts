// @vitest-environment happy-dom
// Webhooks: the event types a form offers (the document's, but ping), a choice of events and the
// list the API takes, both ways; a delivery's state, duration and counts in words; the log kept
// in order when its first page is asked again; an endpoint's state; refusals in words in each
// language.
import { beforeEach, describe, expect, it } from "vitest";
import { ApiError, type Delivery } from "../src/api";
import { setLang } from "../src/i18n";
import { webhookLimits } from "../src/limits";
import { webhookRefusalText } from "../src/messages";
import {
  choiceOf,
  deliveryCounts,
  deliveryStateText,
  disabledBy,
  durationText,
  eventsOf,
  eventText,
  mergeFirstPage,
  nextWait,
  POLL_MAX_MS,
  POLL_MS,
  sameEvents,
  WEBHOOK_EVENTS,
  withDelivery,
} from "../src/webhooks";
import { choices, property } from "./doc";
import { delivery, endpoint } from "./webhook-fixtures";

beforeEach(() => setLang("en"));

describe("event types", () => {
  it("are the document's, but ping (sent on request only), in its order, each in words", () => {
    expect(WEBHOOK_EVENTS).toEqual(choices("DeliveryJson", "event_type").filter((e) => e !== "ping"));
    expect(WEBHOOK_EVENTS[0]).toBe("video.created");
    for (const e of [...WEBHOOK_EVENTS, "ping"]) expect(eventText(e)).not.toBe(e);
    expect(eventText("video.ready")).toBe("its whole quality ladder is published");
    // A type this interface does not know: as the server names it.
    expect(eventText("video.exploded")).toBe("video.exploded");
  });

  it("limits of a URL and a description are the document's", () => {
    expect(webhookLimits.url).toBe(property("CreateBody", "url").maxLength);
    expect(webhookLimits.description).toBe(property("CreateBody", "description").maxLength);
    expect(webhookLimits.url).toBe(property("PatchBody", "url").maxLength);
    expect(webhookLimits.description).toBe(property("PatchBody", "description").maxLength);
  });
});

describe("a choice of events", () => {
  it("is all of them for `*` (and for nothing given), else those named", () => {
    expect(choiceOf(["*"])).toEqual({ all: true, chosen: [], other: [] });
    expect(choiceOf([])).toEqual({ all: true, chosen: [], other: [] });
    expect(choiceOf(["video.ready", "video.created"])).toEqual({ all: false, chosen: ["video.created", "video.ready"], other: [] });
    // Unknown types are kept to be sent back; ping is never one an endpoint asks for.
    expect(choiceOf(["video.ready", "video.exploded", "ping"])).toEqual({ all: false, chosen: ["video.ready"], other: ["video.exploded"] });
  });

  it("becomes the list the API takes, in the form's order; none is no list", () => {
    expect(eventsOf({ all: true, chosen: ["video.ready"], other: [] })).toEqual(["*"]);
    expect(eventsOf({ all: false, chosen: ["video.ready", "video.created"], other: [] })).toEqual(["video.created", "video.ready"]);
    expect(eventsOf({ all: false, chosen: ["comment.created"], other: ["video.exploded"] })).toEqual(["comment.created", "video.exploded"]);
    expect(eventsOf({ all: false, chosen: [], other: [] })).toBeNull();
  });

  it("goes there and back unchanged", () => {
    for (const events of [["*"], ["video.created"], ["video.created", "upload.completed", "comment.created"], [...WEBHOOK_EVENTS]]) {
      expect(eventsOf(choiceOf(events))).toEqual(events);
    }
  });

  it("compares by what it asks for, not by order", () => {
    expect(sameEvents(["video.ready", "video.created"], ["video.created", "video.ready"])).toBe(true);
    expect(sameEvents(["*"], [])).toBe(true);
    expect(sameEvents(["*"], [...WEBHOOK_EVENTS])).toBe(false);
    expect(sameEvents(["video.ready"], ["video.failed"])).toBe(false);
  });
});

describe("deliveries in words", () => {
  it("say their state in each language", () => {
    expect(["pending", "delivered", "failed"].map((s) => deliveryStateText(s as Delivery["state"]))).toEqual(["Pending", "Delivered", "Failed"]);
    setLang("ru");
    expect(deliveryStateText("failed")).toBe("Не доставлено");
    setLang("ar");
    expect(deliveryStateText("delivered")).toBe("سُلّمت");
  });

  it("say how long an attempt took", () => {
    expect(durationText(null)).toBe("—");
    expect(durationText(undefined)).toBe("—");
    expect(durationText(0)).toBe("0 ms");
    expect(durationText(85.4)).toBe("85 ms");
    expect(durationText(1340)).toBe("1.3 s");
    expect(durationText(12_400)).toBe("12 s");
    setLang("ru");
    expect(durationText(1340)).toBe("1,3 с");
    setLang("ar");
    expect(durationText(85)).toBe("85 ملي ثانية");
  });

  it("are counted by state", () => {
    const list = [delivery("a"), delivery("b", { state: "pending" }), delivery("c", { state: "failed" }), delivery("d")];
    expect(deliveryCounts(list)).toEqual({ delivered: 2, pending: 1, failed: 1 });
    expect(deliveryCounts([])).toEqual({ delivered: 0, pending: 0, failed: 0 });
  });
});

describe("the delivery log", () => {
  const at = (i: number) => `2026-11-23T10:00:${String(i).padStart(2, "0")}Z`;
  // Newest first, as the server lists them.
  const log = (ids: number[]) => ids.map((i) => delivery(`d${i}`, { created_at: at(i) }));

  it("puts a new delivery at the top, once", () => {
    const shown = log([3, 2, 1]);
    expect(withDelivery(shown, delivery("d4", { created_at: at(4) })).map((d) => d.id)).toEqual(["d4", "d3", "d2", "d1"]);
    expect(withDelivery(shown, { ...shown[1], state: "failed" }).map((d) => d.id)).toEqual(["d2", "d3", "d1"]);
  });

  it("keeps the older rows shown when the first page is asked again", () => {
    // Shown: five; asked again with a limit of three, two new ones came in.
    const shown = log([5, 4, 3, 2, 1]);
    const page = log([7, 6, 5]);
    expect(mergeFirstPage(shown, page, 3).map((d) => d.id)).toEqual(["d7", "d6", "d5", "d4", "d3", "d2", "d1"]);
    // Changed rows are the page's.
    const fresh = [{ ...page[0], state: "failed" as const }, page[1], page[2]];
    expect(mergeFirstPage(shown, fresh, 3)[0].state).toBe("failed");
  });

  it("is the page alone when the page reached its end", () => {
    expect(mergeFirstPage(log([3, 2, 1]), log([4, 3]), 20).map((d) => d.id)).toEqual(["d4", "d3"]);
    expect(mergeFirstPage(log([2, 1]), [], 20)).toEqual([]);
  });

  it("is asked again less often while nothing moves, at once when something does", () => {
    expect(nextWait(POLL_MS, false)).toBe(3_000);
    expect(nextWait(10_000, false)).toBe(POLL_MAX_MS);
    expect(nextWait(POLL_MAX_MS, false)).toBe(POLL_MAX_MS);
    expect(nextWait(POLL_MAX_MS, true)).toBe(POLL_MS);
  });
});

describe("an endpoint's state", () => {
  it("is on, off by its owner, or off after failing for too long", () => {
    expect(disabledBy(endpoint())).toBeNull();
    expect(disabledBy(endpoint({ enabled: false, disabled_by: "owner", disabled_reason: "disabled by its owner" }))).toBe("owner");
    expect(disabledBy(endpoint({ enabled: false, disabled_by: "failures", disabled_reason: "every delivery failed for 24 h (last: HTTP 500)" }))).toBe("failures");
    // Whatever the reason's words say, the stable field decides.
    expect(disabledBy(endpoint({ enabled: false, disabled_by: "owner", disabled_reason: "something else" }))).toBe("owner");
  });
});

describe("refusals", () => {
  it("have words for the webhook routes' codes in each language", () => {
    expect(webhookRefusalText(new ApiError(400, "url_not_allowed", "loopback"))).toMatch(/^Webhooks cannot be sent to this address/);
    expect(webhookRefusalText(new ApiError(409, "too_many_webhooks", "at most 10"))).toMatch(/^You have as many endpoints/);
    expect(webhookRefusalText(new ApiError(409, "webhook_disabled", "x"))).toBe("The endpoint is disabled: enable it first.");
    expect(webhookRefusalText(new ApiError(403, "forbidden", "x", null, "all_users"))).toBe("Only administrators may add endpoints that hear every user's events.");
    expect(webhookRefusalText(new ApiError(400, "invalid_field", "A description has at most 500 characters", null, "description"))).toBe("Not accepted: A description has at most 500 characters");
    // Others: the common words.
    expect(webhookRefusalText(new ApiError(401, "unauthorized", "x"))).toBe("Sign in first.");
    setLang("ru");
    expect(webhookRefusalText(new ApiError(400, "url_not_allowed", "loopback"))).toMatch(/^На этот адрес веб-хуки отправлять нельзя/);
    setLang("ar");
    expect(webhookRefusalText(new ApiError(409, "too_many_webhooks", "x"))).toMatch(/^لديك أقصى عدد من نقاط النهاية/);
  });
});

