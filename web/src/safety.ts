// Reporting a video, a comment or a channel to the moderators (a reason from the API's list
// and words of one's own), and blocking a user (their comments are hidden from me; they
// cannot comment on my videos).
import { ApiError, call, type ReportReason, type ReportTarget } from "./api";
import { openDialog } from "./dialog";
import { h } from "./dom";
import { t, type Key } from "./i18n";
import { reportDetailsLimit, reportReasons } from "./limits";
import { problemText } from "./messages";

// One for each of the document's reasons: one it adds fails the type check here.
const REASONS: Record<ReportReason, Key> = {
  spam: "report.reason.spam",
  harassment: "report.reason.harassment",
  hate: "report.reason.hate",
  violence: "report.reason.violence",
  sexual: "report.reason.sexual",
  child_safety: "report.reason.child_safety",
  misinformation: "report.reason.misinformation",
  copyright: "report.reason.copyright",
  other: "report.reason.other",
};

export function isReportReason(value: unknown): value is ReportReason {
  return typeof value === "string" && Object.hasOwn(REASONS, value);
}

/** A reason in words. */
export function reasonLabel(r: ReportReason): string {
  return t(REASONS[r]);
}

const TITLES: Record<ReportTarget, Key> = { video: "report.video", comment: "report.comment", channel: "report.channel" };

/** The report dialog for `target`. */
export function reportDialog(target: ReportTarget, id: string): void {
  const name = `reason-${Math.random().toString(36).slice(2)}`;
  const choices = reportReasons.filter(isReportReason).map((r) =>
    h("label.report-reason", {}, h("input", { type: "radio", name, value: r, required: true, dataset: { testid: `reason-${r}` } }), reasonLabel(r)),
  );
  const details = h("textarea", { rows: 3, maxLength: reportDetailsLimit, placeholder: t("report.details"), "aria-label": t("report.details"), dataset: { testid: "report-details" } });
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "report-error" } });
  const send = h("button.primary", { type: "submit", dataset: { testid: "report-send" } }, t("report.send"));
  const form = h("form.report-form", {}, h("fieldset.report-reasons", {}, h("legend", {}, t("report.why")), choices), details, h("div.form-actions", {}, send), error);
  const dialog = openDialog(t(TITLES[target]), "report-dialog", [form]);
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = form.querySelector<HTMLInputElement>("input[type=radio]:checked")?.value;
    if (!isReportReason(chosen)) return;
    send.disabled = true;
    error.hidden = true;
    call("post", "/api/v1/reports", { body: { target_type: target, target_id: id, reason: chosen, details: details.value.trim() || null } })
      .then(() => {
        dialog.body.replaceChildren(
          h("p", { role: "status", dataset: { testid: "report-done" } }, t("report.thanks")),
          h("div.form-actions", {}, h("button", { type: "button", onclick: () => dialog.close() }, t("dialog.close"))),
        );
      })
      .catch((err: unknown) => {
        error.textContent = problemText(err);
        error.hidden = false;
        send.disabled = false;
      });
  });
}

/** Blocks `username` after the viewer confirms; resolves with whether they are now blocked. */
export async function blockUser(username: string): Promise<boolean> {
  if (!confirm(t("block.confirm", { name: username }))) return false;
  try {
    await call("put", "/api/v1/me/blocks/{username}", { path: { username } });
    return true;
  } catch (e) {
    // Already blocked is blocked.
    if (e instanceof ApiError && e.status === 409 && e.code !== "own_account") return true;
    alert(problemText(e));
    return false;
  }
}

/** A small "⋯" menu of actions (a <details>: opens with the keyboard too; closes on a choice
 * or a click elsewhere). */
export function menu(testid: string, items: { label: string; testid: string; run: () => void; danger?: boolean }[]): HTMLElement {
  const list = h("div.menu-list", { role: "menu" });
  const el = h("details.menu", { dataset: { testid } }, h("summary.menu-button", { "aria-label": t("menu.more"), title: t("menu.more") }, "⋯"), list);
  for (const item of items) {
    list.append(
      h(
        item.danger ? "button.menu-item.danger" : "button.menu-item",
        {
          type: "button",
          role: "menuitem",
          dataset: { testid: item.testid },
          onclick: () => {
            el.open = false;
            item.run();
          },
        },
        item.label,
      ),
    );
  }
  closesItself(el);
  return el;
}

/** A <details> menu closes on a click elsewhere, and on Escape (the focus back on its button). */
export function closesItself(el: HTMLDetailsElement): void {
  const outside = (e: MouseEvent) => {
    if (!el.contains(e.target as Node)) el.open = false;
  };
  el.addEventListener("toggle", () => {
    if (el.open) document.addEventListener("click", outside);
    else document.removeEventListener("click", outside);
  });
  el.addEventListener("keydown", (e) => {
    if (e.key !== "Escape" || !el.open) return;
    el.open = false;
    el.querySelector("summary")?.focus();
  });
}
