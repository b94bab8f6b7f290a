// The upload page: pick or drop a file, channel/title/description/visibility, upload with progress,
// rate and ETA, then the transcode's progress until playable. Where the server offers direct
// uploads (S3 storage), the file's parts go straight to the bucket a few at once (../direct.ts);
// elsewhere by tus. Either is resumed after a page reload: tus-js-client keeps the upload URL in
// localStorage under the file's fingerprint, the direct path the upload's id under the file's
// name, size and date. Cancel stops the requests in flight; Upload then goes on.
import * as tus from "tus-js-client";
import {
  ApiError,
  call,
  currentUser,
  field,
  get,
  myChannels,
  serverFeatures,
  token,
  type Channel,
  type NewVideo,
  type PathOf,
  type VideoPatch,
} from "../api";
import { DirectTransfer, forget, isAbort, PutError, recall, remember, type DirectNew, type StartedWith } from "../direct";
import { h } from "../dom";
import { formatBytes, formatEta, RateMeter } from "../format";
import { t, videoLanguage, videoLanguageChoices } from "../i18n";
import { adoptAccountLanguages } from "../prefs";
import { isPrivacy, privacyChoices, videoLimits } from "../limits";
import type { PageFn } from "../router";
import { privacyLabel, statusLine, uploadError, uploadWords } from "../messages";

/** The tus endpoint (creation, and discovery by OPTIONS). */
const UPLOADS = "/api/v1/uploads" satisfies PathOf<"post"> & PathOf<"options">;

/** The fields the form sends as tus metadata (which the server reads as a `NewVideo`), and
 * by PATCH (a `VideoPatch`) when a resumed upload was started with others. */
const FIELDS = ["title", "description", "privacy"] as const satisfies readonly (keyof NewVideo & keyof VideoPatch)[];
type Field = (typeof FIELDS)[number];
/** Their values, of the types both schemas take (the visibility is the document's enum). */
type Fields = { [K in Field]: NonNullable<NewVideo[K]> & NonNullable<VideoPatch[K]> };
/** The metadata key of the channel (a handle); an edit cannot move a video to another. */
const CHANNEL = "channel" satisfies keyof NewVideo & keyof DirectNew;
/** What an upload started earlier was given (tus metadata, or what the direct path kept). */
type Earlier = Record<string, string | undefined>;

async function maxSize(): Promise<number | null> {
  try {
    const res = await fetch(UPLOADS, { method: "OPTIONS", headers: { "Tus-Resumable": "1.0.0" } });
    const v = Number(res.headers.get("Tus-Max-Size"));
    return Number.isFinite(v) && v > 0 ? v : null;
  } catch {
    return null;
  }
}

export const upload: PageFn = async (root, _params, url) => {
  root.append(h("h1.page-title", {}, t("upload.title")));
  if (!(await currentUser())) {
    root.append(h("p.notice", {}, h("a", { href: "/login?next=/upload" }, t("upload.signin"))));
    return;
  }
  root.append(h("p.import-link", {}, h("a", { href: "/import", dataset: { testid: "import-link" } }, t("upload.importlink"))));
  const [limit, channels, features] = await Promise.all([maxSize(), myChannels().catch((): Channel[] => []), serverFeatures()]);
  // Straight to storage when the server offers it (until it says otherwise: then by tus).
  let direct = features.direct_upload === true;
  // Which of my channels the video goes to (tus metadata `channel`, a handle; without it
  // the server takes my first channel). The one asked for by ?channel= is chosen.
  const asked = url.searchParams.get("channel");
  const channel = h(
    "select",
    { name: "channel", dataset: { testid: "channel" } },
    ...channels.map((c) => h("option", { value: c.handle, selected: c.handle === asked }, `${c.display_name} (@${c.handle})`)),
  );
  // Out of sight but in the keyboard's path: Tab reaches it (the drop zone shows the focus),
  // Enter or Space opens the file chooser.
  const input = h("input.visually-hidden", { id: "file", type: "file", accept: "video/*", dataset: { testid: "file" } });
  const chosen = h("div.chosen");
  const drop = h(
    "label.drop",
    { for: "file", dataset: { testid: "drop" } },
    h("div", {}, t("upload.drop")),
    h("span.button", {}, t("upload.choose")),
    chosen,
  );
  const title = h("input", { name: "title", maxLength: videoLimits.title, required: true, dataset: { testid: "title" } });
  const description = h("textarea", { name: "description", rows: 4, maxLength: videoLimits.description });
  const privacy = h(
    "select",
    { name: "privacy", dataset: { testid: "privacy" } },
    ...privacyChoices.map((p) => h("option", { value: p }, privacyLabel(p))),
  );
  // The video's language (a BCP 47 tag, the API's `language`), first the one chosen in
  // settings: my account's (read once per sign-in), which this browser keeps a copy of.
  await adoptAccountLanguages();
  const mine = videoLanguage();
  const language = h(
    "select",
    { name: "language", dataset: { testid: "language" } },
    h("option", { value: "" }, t("language.none")),
    ...videoLanguageChoices(undefined, mine).map((c) => h("option", { value: c.tag, selected: c.tag === mine }, c.name)),
  );
  const start = h("button.primary", { type: "submit", disabled: true, dataset: { testid: "start" } }, t("upload.start"));
  const cancel = h("button", { type: "button", hidden: true, dataset: { testid: "cancel" } }, uploadWords("cancel"));
  const bar = h("progress.progress", { max: 100, value: 0, hidden: true });
  const info = h("div.upload-info", { dataset: { testid: "upload-info" }, "aria-live": "polite" });
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "upload-error" } });
  const form = h(
    "form.upload-form",
    {},
    input,
    drop,
    channels.length ? h("label", {}, t("upload.field.channel"), channel) : null,
    h("label", {}, t("upload.field.title"), title),
    h("label", {}, t("upload.field.description"), description),
    h("label", {}, t("upload.field.privacy"), privacy),
    h("label", {}, t("upload.field.language"), language),
    start,
    cancel,
    bar,
    info,
    error,
  );
  root.append(form);

  let file: File | null = null;
  /** The upload going on (either path). */
  let running: { abort(): void } | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const fail = (msg: string) => {
    error.textContent = msg;
    error.hidden = false;
    start.disabled = !file;
  };
  const pick = async (f: File | undefined) => {
    if (!f) return;
    file = f;
    error.hidden = true;
    channel.disabled = false;
    info.textContent = "";
    chosen.textContent = `${f.name} · ${formatBytes(f.size)}`;
    start.disabled = false;
    if (limit && f.size > limit) {
      fail(uploadError(413, "too_large", "", limit));
      return;
    }
    // The same file started earlier (before a reload or a closed tab) goes on where it
    // stopped, under the title and visibility it was given then.
    const kept: Earlier | undefined = direct ? recall(f)?.fields : undefined;
    const previous = kept ? [] : await new tus.Upload(f, { endpoint: UPLOADS }).findPreviousUploads().catch(() => []);
    const meta = kept ?? previous[0]?.metadata;
    if (file !== f) return;
    if (meta) {
      title.value = meta.title ?? title.value;
      description.value = meta.description ?? description.value;
      // Kept in this browser's storage: only a visibility the form offers is taken, and
      // only a channel it offers (the upload goes on into the channel it was started in).
      if (isPrivacy(meta.privacy)) privacy.value = meta.privacy;
      const startedLanguage = meta.language;
      if (startedLanguage && [...language.options].some((o) => o.value === startedLanguage)) language.value = startedLanguage;
      const startedIn = meta[CHANNEL];
      if (startedIn && channels.some((c) => c.handle === startedIn)) channel.value = startedIn;
      channel.disabled = !!startedIn;
      info.textContent = t("upload.resumable");
    } else if (!title.value) {
      title.value = f.name.replace(/\.[^.]+$/, "").replace(/[_.]+/g, " ");
    }
  };
  input.addEventListener("change", () => void pick(input.files?.[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    void pick(e.dataTransfer?.files[0]);
  });

  const follow = async (videoId: string) => {
    if (stopped) return;
    try {
      const v = await get("/api/v1/videos/{id}", { path: { id: videoId } });
      const link = h("a.button", { href: `/watch/${videoId}`, dataset: { testid: "watch-link" } }, t("upload.watch"));
      bar.value = v.progress;
      if (v.status === "failed") {
        info.replaceChildren();
        fail(t("upload.error.failed", { reason: v.failure?.message ?? v.failure?.code ?? "" }));
        return;
      }
      const state = v.status === "ready" ? t("upload.ready") : v.playable ? t("upload.playable") : statusLine(v) || t("upload.uploaded");
      info.replaceChildren(h("span", { dataset: { testid: "video-state", playable: String(v.playable) } }, state), " ", v.playable ? link : "");
      if (v.status === "ready") return;
    } catch {
      // Poll again.
    }
    timer = setTimeout(() => void follow(videoId), 1000);
  };

  const begin = async () => {
    if (!file || running) return;
    const chosenPrivacy = privacy.value;
    if (!isPrivacy(chosenPrivacy)) throw new Error(`unknown visibility "${chosenPrivacy}"`);
    start.disabled = true;
    error.hidden = true;
    bar.hidden = false;
    const meter = new RateMeter();
    let videoId: string | null = null;
    const f = file;
    const wanted: Fields = {
      title: title.value.trim(),
      description: description.value,
      privacy: chosenPrivacy,
    };
    // Sent when chosen (the API takes none as "not said").
    const chosenLanguage: { language?: string } = language.value ? { language: language.value } : {};
    // Uploaded: a resumed upload was created with the fields given then, later edits go by
    // PATCH; then the transcode is followed.
    const finish = async (id: string, resumedFrom: Earlier | null) => {
      const edits: Partial<Fields> = {};
      const editIfChanged = <K extends Field>(k: K) => {
        const before = resumedFrom?.[k];
        if (before !== undefined && before !== wanted[k]) edits[k] = wanted[k];
      };
      FIELDS.forEach(editIfChanged);
      if (Object.keys(edits).length) {
        await call("patch", "/api/v1/videos/{id}", { path: { id }, body: edits satisfies VideoPatch }).catch((err: Error) =>
          fail(uploadError(0, "", err.message, limit)),
        );
      }
      await follow(id);
    };
    const progress = (sent: number, total: number) => {
      meter.add(performance.now(), sent);
      bar.value = total ? (sent / total) * 100 : 0;
      info.textContent = t("upload.progress", {
        done: formatBytes(sent),
        total: formatBytes(total),
        rate: formatBytes(meter.rate()),
        eta: formatEta(meter.eta(total)),
      });
    };
    const ended = () => {
      running = null;
      cancel.hidden = true;
    };
    const uploaded = (id: string, resumedFrom: Earlier | null) => {
      ended();
      info.textContent = t("upload.uploaded");
      bar.value = 0;
      void finish(id, resumedFrom);
    };
    const chosenChannel: Record<typeof CHANNEL, string> | Record<never, never> = channel.value ? { [CHANNEL]: channel.value } : {};

    // Straight to storage, unless this file's tus upload was begun earlier (it goes on so).
    const byTus = await new tus.Upload(f, { endpoint: UPLOADS }).findPreviousUploads().catch(() => []);
    if (direct && !byTus.length) {
      const earlier = recall(f);
      const transfer = new DirectTransfer(f, {
        onProgress: progress,
        onRetry(part, _attempt, wait) {
          info.textContent = uploadWords("retrying", { part, secs: Math.max(1, Math.round(wait / 1000)) });
        },
        onCreated(up) {
          const fields: StartedWith = { ...wanted, ...chosenChannel };
          remember(f, { id: up.id, videoId: up.video_id, fields, expiresAt: up.expires_at });
          if (earlier) info.textContent = uploadWords("restarted");
        },
      });
      running = transfer;
      cancel.hidden = false;
      if (earlier) info.textContent = t("upload.resumed");
      try {
        const body: DirectNew = { size: f.size, filename: f.name, ...wanted, ...chosenLanguage, ...chosenChannel };
        const done = await transfer.run(body, earlier?.id);
        forget(f);
        uploaded(done.video_id, done.resumed && earlier ? earlier.fields : null);
        return;
      } catch (e) {
        ended();
        if (stopped) return;
        if (isAbort(e)) {
          info.textContent = uploadWords("cancelled");
          start.disabled = false;
          return;
        }
        if (!(e instanceof ApiError && e.status === 409 && e.code === "direct_upload_off")) {
          if (e instanceof ApiError) fail(uploadError(e.status, e.code, e.detail, limit));
          else fail(uploadError(e instanceof PutError ? e.status : 0, "", e instanceof Error ? e.message : String(e), limit));
          return;
        }
        // Not offered after all (the server's setting changed): by tus.
        direct = false;
        forget(f);
      }
    }

    let resumedFrom: Earlier | null = null;
    const up = new tus.Upload(f, {
      endpoint: UPLOADS,
      chunkSize: 16 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      headers: { Authorization: `Bearer ${token() ?? ""}` },
      metadata: {
        filename: f.name,
        filetype: f.type,
        ...chosenChannel,
        ...wanted,
        ...chosenLanguage,
      },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onAfterResponse(_req, res) {
        videoId = res.getHeader("Kadr-Video-Id") || videoId;
      },
      onProgress: progress,
      onError(err) {
        ended();
        const res = err instanceof tus.DetailedError ? err.originalResponse : null;
        let problem: unknown = null;
        try {
          problem = JSON.parse(res?.getBody() ?? "");
        } catch {
          // Not problem+json.
        }
        const detail = field(problem, "detail") ?? field(problem, "title") ?? err.message;
        fail(uploadError(res?.getStatus() ?? 0, field(problem, "code") ?? "", detail, limit));
      },
      onSuccess() {
        if (videoId) uploaded(videoId, resumedFrom);
        else ended();
      },
    });
    // Stopped, it stays resumable (its URL is kept); Upload goes on with it.
    const handle = {
      abort() {
        void up.abort();
        ended();
        if (stopped) return;
        info.textContent = uploadWords("cancelled");
        start.disabled = false;
      },
    };
    running = handle;
    cancel.hidden = false;
    const previous = await up.findPreviousUploads();
    if (running !== handle) return; // cancelled meanwhile
    if (previous.length) {
      up.resumeFromPreviousUpload(previous[0]);
      resumedFrom = previous[0].metadata;
      info.textContent = t("upload.resumed");
    }
    up.start();
  };
  cancel.addEventListener("click", () => running?.abort());
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    begin().catch((err: unknown) => {
      // Before the upload started (its earlier parts could not be looked up).
      running = null;
      cancel.hidden = true;
      fail(uploadError(0, "", err instanceof Error ? err.message : String(err), limit));
    });
  });

  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    running?.abort();
  };
};
