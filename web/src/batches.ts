// The moderators' "Import batches" tab: an unverified account's imported catalogue waits as one
// batch (its videos are kept out of the review queue). Each batch says whose it is and how many
// of its videos wait, how many of those are ready; a random sample of the waiting ones shows as
// video cards to watch (their watch pages play them for moderators), another sample on request;
// and the batch is approved, or rejected with a reason its owner sees, as a whole: the answer
// says how many were decided now and how many still wait (after an approval, those not ready
// yet, approved as they become ready).
import { call, get, type Batch } from "./api";
import { card } from "./cards";
import { append, h } from "./dom";
import { timeAgo } from "./format";
import { t } from "./i18n";
import { reasonLimit } from "./limits";
import { problemText } from "./messages";

/** How many videos a sample shows. */
export const SAMPLE_SIZE = 10;

/** A new seed for a sample (the same seed would give the same videos again). */
function seed(): string {
  return Math.random().toString(36).slice(2, 12);
}

function batchItem(b: Batch): HTMLElement {
  const counts = h("p.muted.batch-counts", { dataset: { testid: "batch-counts" } }, t("mod.batchcounts", { pending: b.pending, ready: b.ready, total: b.total }));
  const approved = h("span.pill.ok", { hidden: !b.approved_at, dataset: { testid: "batch-approved" } }, t("mod.batchapproved"));
  const sampleId = `batch-sample-${b.id}`;
  const sampleButton = h("button", { type: "button", "aria-expanded": "false", "aria-controls": sampleId, dataset: { testid: "batch-sample-button" } }, t("mod.batchsample"));
  const sample = h("section.batch-sample", { id: sampleId, hidden: true, "aria-label": t("mod.batchsamplelabel", { name: b.name }), dataset: { testid: "batch-sample" } });
  const reason = h("input", { placeholder: t("mod.batchreason"), "aria-label": t("mod.batchreason"), maxLength: reasonLimit, dataset: { testid: "batch-reason" } });
  const approve = h("button.primary", { type: "button", dataset: { testid: "batch-approve" } }, t("mod.batchapprove"));
  const reject = h("button.danger", { type: "button", dataset: { testid: "batch-reject" } }, t("mod.batchreject"));
  const result = h("p.form-message", { role: "status", dataset: { testid: "batch-result" } });
  const error = h("div.error", { role: "alert", hidden: true });

  const showSample = async () => {
    sampleButton.disabled = true;
    error.hidden = true;
    try {
      const page = await get("/api/v1/moderation/batches/{id}/sample", { path: { id: b.id }, query: { size: SAMPLE_SIZE, seed: seed() } });
      sample.replaceChildren(page.items.length ? h("div.grid", { dataset: { testid: "batch-sample-grid" } }, ...page.items.map(card)) : h("p.muted", {}, t("mod.batchsamplenone")));
      sample.hidden = false;
      sampleButton.setAttribute("aria-expanded", "true");
      sampleButton.textContent = t("mod.batchresample");
    } catch (e) {
      error.textContent = problemText(e);
      error.hidden = false;
    } finally {
      sampleButton.disabled = false;
    }
  };
  sampleButton.addEventListener("click", () => void showSample());

  const decide = async (action: "approve" | "reject") => {
    const why = reason.value.trim();
    if (action === "reject" && !why) {
      reason.focus();
      error.textContent = t("mod.batchreason");
      error.hidden = false;
      return;
    }
    approve.disabled = reject.disabled = true;
    error.hidden = true;
    try {
      const path = { id: b.id };
      const done =
        action === "reject"
          ? await call("post", "/api/v1/moderation/batches/{id}/reject", { path, body: { reason: why } })
          : await call("post", "/api/v1/moderation/batches/{id}/approve", { path, body: why ? { reason: why } : null });
      result.textContent = t("mod.batchdecided", { decided: done.decided, pending: done.still_pending });
      counts.textContent = t("mod.batchcounts", { pending: done.still_pending, ready: 0, total: b.total });
      if (action === "approve") approved.hidden = false;
      // Nothing left to decide after a rejection, nor once every member is decided.
      const over = action === "reject" || done.still_pending === 0;
      approve.disabled = over || action === "approve";
      reject.disabled = over;
    } catch (e) {
      approve.disabled = reject.disabled = false;
      error.textContent = problemText(e);
      error.hidden = false;
    }
  };
  approve.addEventListener("click", () => void decide("approve"));
  reject.addEventListener("click", () => void decide("reject"));

  const el = h("article.mod-item", { dataset: { testid: "batch", batchId: b.id } });
  append(el, [
    h(
      "div.mod-meta",
      {},
      h("h2.card-title", {}, h("bdi", {}, b.name)),
      h("div.muted", {}, t("mod.batchby", { owner: b.owner.username, when: timeAgo(b.created_at) })),
      counts,
      approved,
      h("div.mod-actions", {}, sampleButton),
      h("div.mod-actions", {}, approve, reason, reject),
      result,
      error,
    ),
    sample,
  ]);
  return el;
}

/** The batches with videos waiting, oldest first, a page at a time. */
export function importBatches(root: HTMLElement): void {
  const list = h("div.mod-list", { dataset: { testid: "mod-batches" } });
  const status = h("div.list-status", {}, t("list.more"));
  const more = h("button.more", { type: "button", hidden: true }, t("list.showmore"));
  let cursor: string | undefined;
  const load = async () => {
    more.disabled = true;
    try {
      const page = await get("/api/v1/moderation/batches", { query: { cursor, limit: 24 } });
      list.append(...page.items.map(batchItem));
      cursor = page.next_cursor ?? undefined;
      more.hidden = !cursor;
      status.textContent = list.childElementCount ? "" : t("mod.batchesempty");
    } catch (e) {
      status.textContent = problemText(e);
    } finally {
      more.disabled = false;
    }
  };
  more.addEventListener("click", () => void load());
  root.append(list, status, more);
  void load();
}
