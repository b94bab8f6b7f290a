// Sentences about a video's state and an upload's failure, in the current language.
import { ApiError, type Privacy, type Video } from "./api";
import { dateTime, formatBytes } from "./format";
import { lang, t, type Key, type Lang } from "./i18n";
import type { RowProblem } from "./manifest";

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


// Problem codes with words of their own; others are told by the server's detail.
const PROBLEMS: Partial<Record<string, Key>> = {
  comments_off: "error.comments_off",
  last_channel: "error.last_channel",
  handle_taken: "error.handle_taken",
  too_many_channels: "error.too_many_channels",
  own_channel: "error.own_channel",
  not_an_image: "error.not_an_image",
  unsupported_media_type: "error.not_an_image",
  confirmation_required: "error.confirmation_required",
  forbidden: "error.forbidden",
  invalid_credentials: "error.invalid_credentials",
  account_banned: "error.account_banned",
  blocked: "error.blocked",
  playlist_full: "error.playlist_full",
  too_many_playlists: "error.too_many_playlists",
  watch_later: "error.watch_later",
  already_reported: "error.already_reported",
  own_account: "error.own_account",
  wrong_password: "error.wrong_password",
  mail_off: "error.mail_off",
  invalid_account_token: "error.invalid_account_token",
  moderator_target: "error.moderator_target",
  email_taken: "error.email_taken",
  username_taken: "error.username_taken",
};

/** The first date and time in `text` (the server's detail of a suspension), in the viewer's
 * words; `null` without one. */
export function dateIn(text: string, l: Lang = lang()): string | null {
  const m = /\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?/.exec(text);
  if (!m) return null;
  const d = new Date(m[0].replace(" ", "T"));
  if (Number.isNaN(d.getTime())) return null;
  return dateTime(d, l);
}

/** A failed call in words: the problem's code where the interface has words for it (a
 * rate limit with its wait), else the server's detail. */
export function problemText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === "account_suspended") {
      const until = dateIn(e.detail);
      return until ? t("error.account_suspended_until", { until }) : t("error.account_suspended");
    }
    if (e.code === "too_many_mails") return e.retryAfter !== null ? t("error.too_many_mails_wait", { mins: Math.max(1, Math.ceil(e.retryAfter / 60)) }) : t("error.too_many_mails");
    if (e.status === 429 || e.code === "too_many_actions") {
      return e.retryAfter !== null ? t("error.too_many_actions", { secs: e.retryAfter }) : t("error.too_many");
    }
    const known = PROBLEMS[e.code];
    if (known) return t(known);
    if (e.status === 401) return t("error.signin");
    if (e.status === 413 || e.code === "too_large" || e.code === "body_too_large") return t("error.picture_too_large");
    const key = PROBLEMS[e.code];
    if (key) return t(key);
    return t("error.generic", { reason: e.detail || e.code });
  }
  return t("error.generic", { reason: e instanceof Error ? e.message : String(e) });
}

// The upload page's words for direct uploads to storage (parts sent a few at once, a
// cancel button), in each language.
const UPLOAD_WORDS = {
  en: {
    cancel: "Cancel",
    cancelled: "The upload was stopped. Choose Upload to go on from where it stopped.",
    retrying: "Part {part} did not get through; trying again in {secs} s…",
    restarted: "The earlier upload of this file is gone from the server; it starts anew.",
  },
  ru: {
    cancel: "Отменить",
    cancelled: "Загрузка остановлена. Нажмите «Загрузить», чтобы продолжить с того же места.",
    retrying: "Часть {part} не дошла; повтор через {secs} с…",
    restarted: "Начатой ранее загрузки этого файла на сервере больше нет; она начнётся заново.",
  },
  ar: {
    cancel: "إلغاء",
    cancelled: "توقّف التحميل. اختر «تحميل» لمتابعته من حيث توقّف.",
    retrying: "لم يصل الجزء {part}؛ ستُعاد المحاولة بعد {secs} ث…",
    restarted: "لم يعد التحميل السابق لهذا الملف موجودًا على الخادم؛ سيبدأ من جديد.",
  },
} as const satisfies Record<Lang, Record<string, string>>;
export type UploadWord = keyof (typeof UPLOAD_WORDS)["en"];

/** One of the upload page's sentences about direct uploads, with `{name}` filled in. */
export function uploadWords(key: UploadWord, vars: Record<string, string | number> = {}, l: Lang = lang()): string {
  const words = UPLOAD_WORDS[l];
  return words[key].replace(/\{(\w+)\}/g, (_, name: string) => (name in vars ? String(vars[name]) : `{${name}}`));
}

// An import's failure in words: the server's codes for what it refused or could not fetch have
// sentences of their own; a file fetched but failed by the worker says the worker's code.
const IMPORT_FAILURES: Partial<Record<string, Key>> = {
  url_not_allowed: "imp.code.url_not_allowed",
  source_not_allowed: "imp.code.source_not_allowed",
  source_unavailable: "imp.code.source_unavailable",
  source_too_large: "imp.code.source_too_large",
  fetch_timed_out: "imp.code.fetch_timed_out",
  too_many_imports: "imp.code.too_many_imports",
  unknown_channel: "imp.code.unknown_channel",
};

/** The worker's codes for a file it could not process (a video's `failure.code`). */
const PROCESSING_FAILURES = new Set(["empty_file", "not_a_video", "no_video_stream", "unsupported_codec", "undecodable", "truncated", "too_long", "too_many_pixels", "too_many_frames_per_second", "too_many_streams", "stalled", "too_slow", "processing_failed"]);

/** What went wrong with an import (`code` and the server's `message`, if any), in words. */
export function importFailureText(code: string, message?: string | null): string {
  const key = IMPORT_FAILURES[code];
  if (key) return t(key);
  if (PROCESSING_FAILURES.has(code)) return t("imp.code.processing", { reason: message || code });
  return t("imp.code.other", { reason: message || code });
}

/** A refused import request in words: an import's code where it has one, else the problem's. */
export function importRefusalText(e: unknown): string {
  if (e instanceof ApiError && IMPORT_FAILURES[e.code]) return importFailureText(e.code);
  if (e instanceof ApiError && e.code === "invalid_field") return t("imp.code.other", { reason: e.detail || e.code });
  return problemText(e);
}

// Why a manifest's row is not sent (manifest.ts's codes, which are the CLI's).
const ROW_PROBLEMS: Record<RowProblem, Key> = {
  missing_source: "imp.row.missing_source",
  bad_source: "imp.row.bad_source",
  bad_external_id: "imp.row.bad_external_id",
  bad_privacy: "imp.row.bad_privacy",
  bad_date: "imp.row.bad_date",
  bad_captions: "imp.row.bad_captions",
  bad_json: "imp.row.bad_json",
  bad_row: "imp.row.bad_row",
  unknown_column: "imp.row.unknown_column",
  unknown_key: "imp.row.unknown_key",
  duplicate_external_id: "imp.row.duplicate_external_id",
  local_file: "imp.row.local_file",
};

/** Why a manifest's row is not sent, in words. */
export function rowProblemText(code: RowProblem, vars: Record<string, string>): string {
  return t(ROW_PROBLEMS[code], vars);
}

// A refused webhook request in words: the codes of the webhook routes have sentences of their
// own (the URL guard's, the endpoint limit, a disabled endpoint).
const WEBHOOK_REFUSALS: Partial<Record<string, Key>> = {
  url_not_allowed: "wh.code.url_not_allowed",
  too_many_webhooks: "wh.code.too_many_webhooks",
  webhook_disabled: "wh.code.webhook_disabled",
};

/** A refused webhook request in words: a webhook code's sentence, a refused field with the
 * server's reason, `all_users` asked for by someone who is not an administrator; else the
 * problem's words. */
export function webhookRefusalText(e: unknown): string {
  if (e instanceof ApiError) {
    const key = WEBHOOK_REFUSALS[e.code];
    if (key) return t(key);
    if (e.code === "forbidden" && e.field === "all_users") return t("wh.code.all_users");
    if (e.code === "invalid_field" || e.code === "invalid_body") return t("wh.code.invalid", { reason: e.detail || e.title || e.code });
  }
  return problemText(e);
}

/** What a token may do, as the server names it (`read`, `upload`, …), and its words. */
export const SCOPES = ["read", "upload", "manage", "interact", "moderate", "admin", "webhooks"] as const;
export type Scope = (typeof SCOPES)[number];
const SCOPE_WORDS: Record<Scope, Key> = {
  read: "scope.read",
  upload: "scope.upload",
  manage: "scope.manage",
  interact: "scope.interact",
  moderate: "scope.moderate",
  admin: "scope.admin",
  webhooks: "scope.webhooks",
};

/** A scope in words (an unknown one as the server names it). */
export function scopeText(scope: string): string {
  return (SCOPES as readonly string[]).includes(scope) ? t(SCOPE_WORDS[scope as Scope]) : scope;
}

/** A session's or token's kind in words. */
export function sessionKindText(kind: string): string {
  return kind === "personal" ? t("settings.kind.personal") : kind === "integration" ? t("settings.kind.integration") : t("settings.kind.session");
}
