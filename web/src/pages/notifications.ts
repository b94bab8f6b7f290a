// Notifications: what happened (a new video of a channel I follow, a reply to my comment, a
// like milestone, a moderation decision, a processed or failed upload), newest first, each
// leading to its video. Those shown are marked read; "mark all read" marks the rest.
import { call, currentUser, get, type Notification } from "../api";
import { h } from "../dom";
import { dateTime, timeAgo } from "../format";
import { t } from "../i18n";
import { problemText } from "../messages";
import { showUnread } from "../notify";
import { navigate, type PageFn } from "../router";

/** A string of a notification's `data`, if it has one. */
function datum(n: Notification, name: string): string | undefined {
  const value: unknown = (n.data as Record<string, unknown>)[name];
  return typeof value === "string" ? value : typeof value === "number" ? String(value) : undefined;
}

/** What a notification says, in the current language (plain text). */
export function notificationText(n: Notification): string {
  const title = n.video?.title ?? t("notif.avideo");
  switch (n.type) {
    case "new_video":
      return t("notif.new_video", { channel: n.video?.channel_name ?? t("notif.someone"), title });
    case "comment_reply":
      return t("notif.comment_reply", { actor: n.actor ?? t("notif.someone"), excerpt: n.comment?.excerpt ?? "" });
    case "like_milestone":
      return t("notif.like_milestone", { title, n: Number(datum(n, "likes") ?? 0) });
    case "moderation":
      // A decision on an import batch: one notice for its videos.
      if (datum(n, "batch")) {
        const count = Number(datum(n, "count") ?? 0);
        return datum(n, "decision") === "rejected" ? t("notif.batch_rejected", { n: count, reason: datum(n, "reason") ?? "" }) : t("notif.batch_approved", { n: count });
      }
      if (datum(n, "playlist_id")) {
        const name = datum(n, "playlist_title") ?? "";
        return datum(n, "decision") === "rejected" ? t("notif.playlist_rejected", { title: name, reason: datum(n, "reason") ?? "" }) : t("notif.playlist_approved", { title: name });
      }
      return datum(n, "decision") === "rejected" ? t("notif.rejected", { title, reason: datum(n, "reason") ?? "" }) : t("notif.approved", { title });
    case "processed":
      return t("notif.processed", { title });
    case "processing_failed":
      return t("notif.processing_failed", { title, code: datum(n, "code") ?? "" });
    case "report_resolved":
      return reportResolvedText(datum(n, "outcome"), datum(n, "target_type"));
    case "warning":
      return withReason(t("notif.warning"), datum(n, "reason"));
    case "standing":
      return standingText(datum(n, "standing"), datum(n, "until"), datum(n, "reason"));
    case "webhook_disabled":
      return withReason(t("notif.webhook_disabled", { url: datum(n, "url") ?? "" }), datum(n, "reason"));
  }
}

const withReason = (text: string, reason: string | undefined) => (reason ? `${text} ${t("notif.reason", { reason })}` : text);

/** A report of mine was decided on: what was done about it. */
function reportResolvedText(outcome: string | undefined, target: string | undefined): string {
  const what = target === "comment" ? t("notif.thecomment") : target === "channel" ? t("notif.thechannel") : t("notif.thevideo");
  return outcome === "dismissed" ? t("notif.report_dismissed", { what }) : t("notif.report_actioned", { what });
}

/** My account's standing changed: suspended (until when), banned, or active again. */
function standingText(standing: string | undefined, until: string | undefined, reason: string | undefined): string {
  if (standing === "suspended") {
    const when = until ? dateTime(until) : "?";
    return withReason(t("notif.suspended", { until: when }), reason);
  }
  if (standing === "banned") return withReason(t("notif.banned"), reason);
  return t("notif.reinstated");
}

/** Where a notification leads: its video's watch page; for my account's standing, settings;
 * for a disabled webhook endpoint, the webhooks page. */
export function notificationHref(n: Notification): string | null {
  if (n.video) return `/watch/${encodeURIComponent(n.video.id)}`;
  const list = datum(n, "playlist_id");
  if (list) return `/playlist/${encodeURIComponent(list)}`;
  if (n.type === "warning" || n.type === "standing") return "/settings";
  // A webhook endpoint was disabled: where it can be enabled again.
  if (n.type === "webhook_disabled") return "/settings/webhooks";
  return null;
}

function item(n: Notification): HTMLElement {
  const href = notificationHref(n);
  const content = [
    n.video?.poster_small ? h("img.notif-thumb", { src: n.video.poster_small, alt: "", loading: "lazy" }) : h("div.notif-thumb.noimg"),
    h("div.notif-text", {}, h("div", { dataset: { testid: "notif-text" } }, notificationText(n)), h("time.muted", { dateTime: n.created_at }, timeAgo(n.created_at))),
  ];
  const attrs = { dataset: { testid: "notification", type: n.type, id: String(n.id), read: String(n.read) } };
  const el = href ? h("a.notif", { ...attrs, href }, content) : h("div.notif", attrs, content);
  el.classList.toggle("unread", !n.read);
  return el;
}

export const notifications: PageFn = async (root) => {
  if (!(await currentUser())) {
    navigate("/login?next=/notifications", true);
    return;
  }
  const markAll = h("button", { type: "button", dataset: { testid: "mark-all-read" } }, t("notif.markall"));
  const list = h("div.notif-list", { dataset: { testid: "notifications" } });
  const status = h("div.list-status");
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  root.append(h("div.notif-page", {}, h("div.page-head", {}, h("h1.page-title", {}, t("notif.title")), markAll), list, status, more));
  let cursor: string | undefined;
  let stopped = false;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/me/notifications", { query: { cursor, limit: 30 } });
      if (stopped) return;
      list.append(...page.items.map(item));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = list.childElementCount ? "" : t("notif.empty");
      // Seen now: read. They keep their look until the page is left.
      const ids = page.items.filter((n) => !n.read).map((n) => n.id);
      if (ids.length) showUnread((await call("post", "/api/v1/me/notifications/read", { body: { ids } })).unread);
      else showUnread(page.unread);
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  markAll.addEventListener("click", () => {
    call("post", "/api/v1/me/notifications/read", { body: {} })
      .then((answer) => {
        showUnread(answer.unread);
        list.querySelectorAll(".notif.unread").forEach((el) => {
          el.classList.remove("unread");
          (el as HTMLElement).dataset.read = "true";
        });
      })
      .catch((e: unknown) => {
        status.textContent = problemText(e);
      });
  });
  await load();
  return () => {
    stopped = true;
  };
};
