// The moderators' reports (/moderation/reports): cases grouped by what was reported, most
// reported first as the server orders them; a case opens to its reports and the decision on
// them (dismiss, remove, warn, suspend, ban), which closes them all and tells each reporter.
// The moderators' record (/moderation/log): who did what, when and why, filtered by action or
// by the user it was about.
import { call, currentUser, get, isModerator, type AdminUser, type LogEntry, type ReportCase, type User } from "../api";
import { h } from "../dom";
import { dateTime, formatBytes, timeAgo } from "../format";
import { dir, formatCount, t, type Key } from "../i18n";
import { logActions, sanctionReasonLimit, suspensionDays } from "../limits";
import { problemText } from "../messages";
import { modTabs } from "../modtabs";
import { navigate, type PageFn } from "../router";
import { isReportReason, reasonLabel } from "../safety";

type Action = LogEntry["action"];
type Role = AdminUser["role"];
const ROLES: Record<Role, Key> = { user: "admin.role.user", moderator: "admin.role.moderator", admin: "admin.role.admin" };
export const isRole = (v: unknown): v is Role => typeof v === "string" && Object.hasOwn(ROLES, v);
export const roleLabel = (r: Role) => t(ROLES[r]);
/** Every role, in the order ROLES lists them. */
export const roleChoices: readonly Role[] = Object.keys(ROLES).filter(isRole);
// One for each of the record's actions (which include every decision and sanction).
const ACTIONS: Record<Action, Key> = {
  dismiss: "action.dismiss",
  remove: "action.remove",
  warn: "action.warn",
  suspend: "action.suspend",
  ban: "action.ban",
  reinstate: "action.reinstate",
  approve: "action.approve",
  reject: "action.reject",
  role: "action.role",
  verified: "action.verified",
  quota: "action.quota",
};

export const isAction = (value: unknown): value is Action => typeof value === "string" && Object.hasOwn(ACTIONS, value);
export const actionLabel = (a: Action) => t(ACTIONS[a]);

const TARGETS: Record<ReportCase["target_type"], Key> = { video: "report.target.video", comment: "report.target.comment", channel: "report.target.channel" };
/** What an entry of the record is about. */
const OBJECTS: Record<NonNullable<LogEntry["object_type"]>, Key> = { ...TARGETS, user: "mod.account", playlist: "mod.playlist" };

/** A decision's form: the action, a suspension's days, the reason; `apply` sends it. */
export function decisionForm<A extends Action>(
  actions: readonly A[],
  apply: (action: A, reason: string | null, days: number | null) => Promise<void>,
  testid = "decision",
): HTMLElement {
  const select = h(
    "select",
    { "aria-label": t("mod.action"), dataset: { testid: `${testid}-action` } },
    ...actions.map((a) => h("option", { value: a }, actionLabel(a))),
  );
  const days = h("input.days", { type: "number", min: suspensionDays.min, max: suspensionDays.max, value: "7", "aria-label": t("mod.days"), title: t("mod.days"), dataset: { testid: `${testid}-days` } });
  const daysLabel = h("label.inline-label", {}, days, t("mod.daysunit"));
  const reason = h("input", { maxLength: sanctionReasonLimit, placeholder: t("mod.decisionreason"), "aria-label": t("mod.decisionreason"), dataset: { testid: `${testid}-reason` } });
  const go = h("button.primary", { type: "submit", dataset: { testid: `${testid}-apply` } }, t("mod.apply"));
  const error = h("div.error", { role: "alert", hidden: true });
  const form = h("form.decision", { dataset: { testid } }, select, daysLabel, reason, go, error);
  const chosen = () => actions.find((a) => a === select.value) ?? actions[0];
  const update = () => {
    daysLabel.hidden = chosen() !== "suspend";
  };
  select.addEventListener("change", update);
  update();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    go.disabled = true;
    error.hidden = true;
    const a = chosen();
    apply(a, reason.value.trim() || null, a === "suspend" ? Math.round(Number(days.value)) || null : null)
      .catch((err: unknown) => {
        error.textContent = problemText(err);
        error.hidden = false;
      })
      .finally(() => {
        go.disabled = false;
      });
  });
  return form;
}

/** Who a report or an entry names: a link to their entries in the record. */
function person(p: { id: string; username?: string | null } | null | undefined): HTMLElement {
  if (!p) return h("span.muted", {}, t("mod.system"));
  return h("a.person", { href: `/moderation/log?subject=${encodeURIComponent(p.id)}`, dir: "auto", dataset: { testid: "person" } }, p.username ?? t("mod.gone"));
}

function caseItem(c: ReportCase, done: () => void): HTMLElement {
  const where = c.video_id ? `/watch/${encodeURIComponent(c.video_id)}` : null;
  const summary = c.summary ?? t("mod.targetgone");
  const details = h("div.case-details", { hidden: true, dataset: { testid: "case-details" } });
  const open = h("button", { type: "button", "aria-expanded": "false", dataset: { testid: "case-open" } }, t("mod.openreports"));
  const el = h(
    "div.mod-item.case",
    { dataset: { testid: "case", targetType: c.target_type, targetId: c.target_id } },
    h(
      "div.mod-meta",
      {},
      h("div.case-head", {}, h("span.pill.kind", {}, t(TARGETS[c.target_type])), h("strong.case-count", { dataset: { testid: "case-count" } }, t("mod.reportcount", { n: c.reports }))),
      where ? h("a.card-title.case-summary", { href: where, dataset: { testid: "case-summary" } }, h("bdi", {}, summary)) : h("div.card-title.case-summary", { dataset: { testid: "case-summary" } }, h("bdi", {}, summary)),
      h("div.muted.small", {}, t("mod.author"), " ", person(c.subject), " · ", t("mod.lastreported", { when: timeAgo(c.last_reported_at) })),
      h("div.reason-chips", {}, c.reasons.map((r) => h("span.pill", {}, `${reasonLabel(r.reason)} × ${formatCount(r.count)}`))),
      h("div.mod-actions", {}, open),
      details,
    ),
  );
  open.addEventListener("click", () => {
    details.hidden = !details.hidden;
    open.setAttribute("aria-expanded", String(!details.hidden));
    if (details.hidden || details.childElementCount) return;
    details.append(h("p.muted", {}, t("list.more")));
    get("/api/v1/moderation/reports/{target_type}/{target_id}", { path: { target_type: c.target_type, target_id: c.target_id } })
      .then((full) => {
        details.replaceChildren(
          h(
            "ol.report-list",
            { dataset: { testid: "reports" } },
            full.items.map((r) =>
              h(
                "li.report",
                { dataset: { testid: "report" } },
                h("div", {}, h("strong", {}, isReportReason(r.reason) ? reasonLabel(r.reason) : r.reason), " · ", r.reporter_name, " · ", h("time.muted", { dateTime: r.created_at }, timeAgo(r.created_at))),
                r.details ? h("div.comment-body", {}, r.details) : null,
              ),
            ),
          ),
          decisionForm(["dismiss", "remove", "warn", "suspend", "ban"] as const, async (action, reason, days) => {
            const answer = await call("post", "/api/v1/moderation/reports/{target_type}/{target_id}/resolve", {
              path: { target_type: c.target_type, target_id: c.target_id },
              body: { action, reason, days },
            });
            el.replaceChildren(h("p.muted", { role: "status", dataset: { testid: "case-done" } }, t("mod.resolved", { action: actionLabel(action), n: answer.reports })));
            done();
          }),
        );
      })
      .catch((e: unknown) => details.replaceChildren(h("p.error", {}, problemText(e))));
  });
  return el;
}

/** A page of the moderators (signed in as one), under their tabs; `null` when refused. */
async function moderatorPage(root: HTMLElement, tab: "reports" | "log", title: Key): Promise<User | null> {
  root.append(h("h1.page-title", {}, t(title)));
  const user = await currentUser();
  if (!isModerator(user)) {
    root.append(h("p.notice", {}, t("mod.denied")));
    return null;
  }
  root.append(modTabs(tab, user));
  return user;
}

export const reports: PageFn = async (root) => {
  if (!(await moderatorPage(root, "reports", "mod.reports"))) return;
  const list = h("div.mod-list", { dataset: { testid: "cases" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const empty = () => {
    status.textContent = list.querySelector("[data-testid=case]") ? "" : t("mod.noreports");
  };
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/moderation/reports", { query: { cursor, limit: 24 } });
      list.append(...page.items.map((c) => caseItem(c, empty)));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      empty();
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(list, status, more);
  await load();
};

function logRow(e: LogEntry): HTMLElement {
  const data = e.data as Record<string, unknown>;
  const shown = (x: unknown) => {
    if (x === null || x === undefined) return e.action === "quota" ? t("admin.quotadefault") : "—";
    if (typeof x === "boolean") return x ? "✓" : "✗";
    if (typeof x === "number" && e.action === "quota") return x === 0 ? "∞" : formatBytes(x);
    if (typeof x === "string" && e.action === "role" && isRole(x)) return roleLabel(x);
    return JSON.stringify(x).replace(/^"|"$/g, "");
  };
  // The arrow points the way the line reads.
  const change = "from" in data || "to" in data ? `${shown(data.from)} ${dir() === "rtl" ? "←" : "→"} ${shown(data.to)}` : "";
  return h(
    "li.log-entry",
    { dataset: { testid: "log-entry", action: e.action } },
    h("time.muted.small", { dateTime: e.created_at, title: dateTime(e.created_at) }, timeAgo(e.created_at)),
    h(
      "div.log-main",
      {},
      h("span.pill.action", { dataset: { testid: "log-action" } }, actionLabel(e.action)),
      " ",
      e.subject ? person(e.subject) : null,
      e.object_type ? h("span.muted.small", {}, ` · ${t(OBJECTS[e.object_type])}`) : null,
      change ? h("span.muted.small", {}, ` · ${change}`) : null,
      e.until ? h("span.muted.small", {}, ` · ${t("mod.until", { when: dateTime(e.until) })}`) : null,
      e.reason ? h("div.log-reason", { dataset: { testid: "log-reason" } }, e.reason) : null,
    ),
    h("div.muted.small.log-actor", {}, t("mod.by"), " ", person(e.actor)),
  );
}

export const moderationLog: PageFn = async (root, _p, url) => {
  if (!(await moderatorPage(root, "log", "mod.log"))) return;
  const action = url.searchParams.get("action") ?? "";
  const subject = url.searchParams.get("subject") ?? "";
  const filter = h(
    "select",
    { "aria-label": t("mod.filteraction"), dataset: { testid: "log-filter" } },
    h("option", { value: "" }, t("mod.allactions")),
    ...logActions.filter(isAction).map((a) => h("option", { value: a, selected: a === action }, actionLabel(a))),
  );
  const go = (a: string, s: string) => navigate(`/moderation/log${a || s ? "?" : ""}${new URLSearchParams({ ...(a ? { action: a } : {}), ...(s ? { subject: s } : {}) }).toString()}`, true);
  filter.addEventListener("change", () => go(filter.value, subject));
  const about = subject ? h("span.pill", { dataset: { testid: "log-subject" } }, t("mod.aboutuser"), " ", h("button.link", { type: "button", "aria-label": t("mod.clear"), onclick: () => go(action, "") }, "✕")) : null;
  const list = h("ol.log-list", { dataset: { testid: "log" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/moderation/log", { query: { action: action || undefined, subject: subject || undefined, cursor, limit: 50 } });
      list.append(...page.items.map(logRow));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = list.childElementCount ? "" : t("mod.logempty");
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(h("div.form-actions.log-filters", {}, filter, about), list, status, more);
  await load();
};
