// Sentences about a video's state and an upload's failure, in the current language.
import type { Privacy, Video } from "./api";
import { formatBytes } from "./format";
import { t, type Key } from "./i18n";

/** The line under a video that is not (yet) an ordinary public one; empty when there is none. */
export function statusLine(v: Video): string {
  if (v.status === "failed") return t("video.failed", { reason: v.failure?.message ?? "" });
  if (v.moderation?.state === "rejected") return t("video.rejected", { reason: v.moderation.reason ?? "" });
  if (v.status === "awaiting_upload" || v.status === "queued") return t("video.waiting");
  if (v.status === "processing") {
    return t("video.processing", { stage: v.stage ?? "", progress: v.progress });
  }
  if (v.moderation?.state === "pending") return t("video.pending");
  return "";
}

// One for each of the document's visibilities: one it adds fails the type check here.
const PRIVACY_LABELS: Record<Privacy, Key> = { public: "video.public", unlisted: "video.unlisted", private: "video.private" };

export function privacyLabel(p: Privacy): string {
  return t(PRIVACY_LABELS[p]);
}

/** The words for a failed upload, from the API's problem code. */
export function uploadError(status: number, code: string, detail: string, limit: number | null): string {
  if (code === "too_large" || (status === 413 && code !== "quota_exceeded")) {
    return t("upload.error.too_large", { limit: limit ? formatBytes(limit) : "?" });
  }
  if (code === "quota_exceeded") return t("upload.error.quota");
  return t("upload.error.other", { reason: detail || code || String(status) });
}

