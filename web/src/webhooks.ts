// Webhook endpoints as the settings page shows them: the event types an endpoint may ask for
// (the document's enum, in words), the choice of events a form makes and the list the API
// takes, a delivery's state and times in words, and the delivery log kept up to date (the first
// page asked again while some are pending, new deliveries at the top).
import type { Delivery, DeliveryState, Endpoint, WebhookEventType } from "./api";
import { numberLocale, t, type Key } from "./i18n";
import { webhookEventTypes } from "./limits";

/** What `events` holds to hear every type, those added later included. */
export const ALL_EVENTS = "*";

/** A type an endpoint may ask for: every one but `ping`, which is sent on request only. */
export type SubscribableEvent = Exclude<WebhookEventType, "ping">;

// Each type in words; one the document adds fails the type check here.
const EVENT_WORDS: Record<WebhookEventType, Key> = {
  "video.created": "wh.event.video.created",
  "upload.completed": "wh.event.upload.completed",
  "video.playable": "wh.event.video.playable",
  "video.ready": "wh.event.video.ready",
  "video.failed": "wh.event.video.failed",
  "video.approved": "wh.event.video.approved",
  "video.rejected": "wh.event.video.rejected",
  "video.deleted": "wh.event.video.deleted",
  "import.item.completed": "wh.event.import.item.completed",
  "import.item.failed": "wh.event.import.item.failed",
  "comment.created": "wh.event.comment.created",
  ping: "wh.event.ping",
};

/** Whether `type` is one an endpoint may ask for. */
export function isSubscribable(type: string): type is SubscribableEvent {
  return type !== "ping" && Object.hasOwn(EVENT_WORDS, type);
}

/** The types a form offers, in the document's order (the order of a video's life). */
export const WEBHOOK_EVENTS: readonly SubscribableEvent[] = webhookEventTypes.filter(isSubscribable);

/** What an event type means, in words (a type this interface does not know: as it is). */
export function eventText(type: string): string {
  return Object.hasOwn(EVENT_WORDS, type) ? t(EVENT_WORDS[type as WebhookEventType]) : type;
}

/** A form's choice of events: all of them, or those ticked. Types the server names that this
 * interface does not know are kept as they are, so saving the form does not drop them. */
export interface EventChoice {
  all: boolean;
  chosen: SubscribableEvent[];
  other: string[];
}

/** The choice an endpoint's `events` make (`["*"]`: all). */
export function choiceOf(events: readonly string[]): EventChoice {
  if (!events.length || events.includes(ALL_EVENTS)) return { all: true, chosen: [], other: [] };
  const chosen = WEBHOOK_EVENTS.filter((e) => events.includes(e));
  const other = [...new Set(events.filter((e) => !isSubscribable(e) && e !== "ping"))];
  return { all: false, chosen, other };
}

/** The `events` the API takes for a choice, in the form's order; `null` when it names none. */
export function eventsOf(choice: EventChoice): string[] | null {
  if (choice.all) return [ALL_EVENTS];
  const list = [...WEBHOOK_EVENTS.filter((e) => choice.chosen.includes(e)), ...choice.other];
  return list.length ? list : null;
}

/** Whether two `events` lists ask for the same. */
export function sameEvents(a: readonly string[], b: readonly string[]): boolean {
  const x = eventsOf(choiceOf(a));
  const y = eventsOf(choiceOf(b));
  return JSON.stringify(x && [...x].sort()) === JSON.stringify(y && [...y].sort());
}

const STATE_WORDS: Record<DeliveryState, Key> = {
  pending: "wh.state.pending",
  delivered: "wh.state.delivered",
  failed: "wh.state.failed",
};

/** A delivery's state in words. */
export function deliveryStateText(state: DeliveryState): string {
  return t(STATE_WORDS[state] ?? "wh.state.pending");
}

/** How long an attempt took: "85 ms", "1.3 s", "12 s"; a dash when none was made. */
export function durationText(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "—";
  if (ms < 1000) return t("wh.ms", { ms: Math.max(0, Math.round(ms)) });
  const secs = ms / 1000;
  const digits = secs < 10 ? 1 : 0;
  const s = new Intl.NumberFormat(numberLocale(), { minimumFractionDigits: digits, maximumFractionDigits: digits }).format(secs);
  return t("wh.secs", { s });
}

/** The counts of shown deliveries by state. */
export function deliveryCounts(list: readonly Delivery[]): Record<DeliveryState, number> {
  const counts: Record<DeliveryState, number> = { pending: 0, delivered: 0, failed: 0 };
  for (const d of list) counts[d.state] = (counts[d.state] ?? 0) + 1;
  return counts;
}

/** The log with `d` at the top (a ping or a redelivery just made), once. */
export function withDelivery(shown: readonly Delivery[], d: Delivery): Delivery[] {
  return [d, ...shown.filter((x) => x.id !== d.id)];
}

/** The log after its first `limit` rows were asked again: the fresh page, then the rows shown
 * past it (older than the page's last, which the page did not reach). */
export function mergeFirstPage(shown: readonly Delivery[], page: readonly Delivery[], limit: number): Delivery[] {
  if (page.length < limit) {
    // The page reached the end of the log: it is the whole log.
    return [...page];
  }
  const last = page[page.length - 1];
  const seen = new Set(page.map((d) => d.id));
  const older = shown.filter((d) => !seen.has(d.id) && isOlder(d, last));
  return [...page, ...older];
}

/** Whether `a` comes after `b` in the log (newest first: created earlier, or the same time and
 * a smaller id, as the server's keyset orders them). */
function isOlder(a: Delivery, b: Delivery): boolean {
  const ta = Date.parse(a.created_at);
  const tb = Date.parse(b.created_at);
  return ta < tb || (ta === tb && a.id < b.id);
}

/** Whether any shown delivery is still going. */
export const anyPending = (list: readonly Delivery[]) => list.some((d) => d.state === "pending");

/** How often the log is asked again while deliveries are pending: at first, and at most when
 * nothing moves. */
export const POLL_MS = 2_000;
export const POLL_MAX_MS = 15_000;

/** The wait before the next look: back to the first when something moved, else half as long
 * again, up to the most. */
export function nextWait(wait: number, moved: boolean): number {
  return moved ? POLL_MS : Math.min(POLL_MAX_MS, Math.round(wait * 1.5));
}

/** Why an endpoint is off: its owner turned it off, or its deliveries failed for too long;
 * `null` while it is on. */
export function disabledBy(e: Pick<Endpoint, "enabled" | "disabled_by">): "owner" | "failures" | null {
  if (e.enabled) return null;
  return e.disabled_by ?? "failures";
}
