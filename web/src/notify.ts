// The header's bell: the unread notifications of the signed-in user, asked for every 30 s
// (while the page is visible), on every navigation, and when the notifications page marks
// some read.
import { get, token } from "./api";
import { h } from "./dom";
import { formatCount, t } from "./i18n";
import { icon } from "./icons";

/** How often the count is asked for. */
export const POLL_MS = 30_000;

/** The badge's text: nothing for none, "99+" past what the server counts exactly. */
export function badgeText(unread: number): string {
  if (unread <= 0) return "";
  return unread > 99 ? "99+" : formatCount(unread);
}

let badge: HTMLElement | null = null;
let link: HTMLElement | null = null;
let timer: ReturnType<typeof setInterval> | undefined;
let asking = false;

/** Shows `unread` on the bell. */
export function showUnread(unread: number): void {
  if (!badge || !link) return;
  badge.textContent = badgeText(unread);
  badge.hidden = unread <= 0;
  link.setAttribute("aria-label", unread > 0 ? t("nav.unread", { n: Math.min(unread, 100) }) : t("nav.notifications"));
}

/** Asks the server for the count now (nothing when signed out or already asking). */
export async function refreshUnread(): Promise<void> {
  if (!badge || !token() || asking) return;
  asking = true;
  try {
    showUnread((await get("/api/v1/me/notifications/unread")).unread);
  } catch {
    // Asked again on the next tick.
  } finally {
    asking = false;
  }
}

/** The bell for the header (one at a time: a new header's replaces the last). */
export function bell(): HTMLElement {
  badge = h("span.bell-badge", { hidden: true, dataset: { testid: "unread" } });
  link = h("a.bell", { href: "/notifications", title: t("nav.notifications"), "aria-label": t("nav.notifications"), dataset: { testid: "bell" } }, icon("bell"), badge);
  timer ??= setInterval(() => {
    if (document.visibilityState === "visible") void refreshUnread();
  }, POLL_MS);
  void refreshUnread();
  return link;
}
