// The upload page: pick or drop a file, channel/title/description/visibility, tus upload with progress,
// rate and ETA (resumed after a page reload: tus-js-client keeps the upload URL in
// localStorage under the file's fingerprint), then the transcode's progress until playable.
import * as tus from "tus-js-client";
import { call, currentUser, field, get, myChannels, token, type Channel, type NewVideo, type PathOf, type VideoPatch } from "../api";
import { h } from "../dom";
import { formatBytes, formatEta, RateMeter } from "../format";
import { t } from "../i18n";
import { isPrivacy, privacyChoices, videoLimits } from "../limits";
import type { PageFn } from "../router";
import { privacyLabel, statusLine, uploadError } from "../messages";

/** The tus endpoint (creation, and discovery by OPTIONS). */
const UPLOADS = "/api/v1/uploads" satisfies PathOf<"post"> & PathOf<"options">;

/** The fields the form sends as tus metadata (which the server reads as a `NewVideo`), and
 * by PATCH (a `VideoPatch`) when a resumed upload was started with others. */
const FIELDS = ["title", "description", "privacy"] as const satisfies readonly (keyof NewVideo & keyof VideoPatch)[];
type Field = (typeof FIELDS)[number];
/** Their values, of the types both schemas take (the visibility is the document's enum). */
type Fields = { [K in Field]: NonNullable<NewVideo[K]> & NonNullable<VideoPatch[K]> };
/** The metadata key of the channel (a handle); an edit cannot move a video to another. */
const CHANNEL = "channel" satisfies keyof NewVideo;

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
  const [limit, channels] = await Promise.all([maxSize(), myChannels().catch((): Channel[] => [])]);
  // Which of my channels the video goes to (tus metadata `channel`, a handle; without it
  // the server takes my first channel). The one asked for by ?channel= is chosen.
  const asked = url.searchParams.get("channel");
  const channel = h(
    "select",
    { name: "channel", dataset: { testid: "channel" } },
    ...channels.map((c) => h("option", { value: c.handle, selected: c.handle === asked }, `${c.display_name} (@${c.handle})`)),
  );
  const input = h("input#file", { type: "file", accept: "video/*", hidden: true, dataset: { testid: "file" } });
  const chosen = h("div.chosen");
  const drop = h(
    "label.drop",
    { htmlFor: "file", dataset: { testid: "drop" } },
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
  const start = h("button.primary", { type: "submit", disabled: true, dataset: { testid: "start" } }, t("upload.start"));
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
    start,
    bar,
    info,
    error,
  );
  root.append(form);

  let file: File | null = null;
  let current: tus.Upload | null = null;
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
    const previous = await new tus.Upload(f, { endpoint: UPLOADS }).findPreviousUploads().catch(() => []);
    const meta = previous[0]?.metadata;
    if (file !== f) return;
    if (meta) {
      title.value = meta.title ?? title.value;
      description.value = meta.description ?? description.value;
      // Kept in this browser's storage: only a visibility the form offers is taken, and
      // only a channel it offers (the upload goes on into the channel it was started in).
      if (isPrivacy(meta.privacy)) privacy.value = meta.privacy;
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
    if (!file || current) return;
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
    let resumedFrom: Record<string, string> | null = null;
    // Uploaded: a resumed upload was created with the fields given then, later edits go by
    // PATCH; then the transcode is followed.
    const finish = async (id: string) => {
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
    const up = new tus.Upload(f, {
      endpoint: UPLOADS,
      chunkSize: 16 * 1024 * 1024,
      retryDelays: [0, 1000, 3000, 5000, 10000],
      headers: { Authorization: `Bearer ${token() ?? ""}` },
      metadata: {
        filename: f.name,
        filetype: f.type,
        ...(channel.value ? { [CHANNEL]: channel.value } : {}),
        ...wanted,
      },
      storeFingerprintForResuming: true,
      removeFingerprintOnSuccess: true,
      onAfterResponse(_req, res) {
        videoId = res.getHeader("Kadr-Video-Id") || videoId;
      },
      onProgress(sent, total) {
        meter.add(performance.now(), sent);
        bar.value = total ? (sent / total) * 100 : 0;
        info.textContent = t("upload.progress", {
          done: formatBytes(sent),
          total: formatBytes(total),
          rate: formatBytes(meter.rate()),
          eta: formatEta(meter.eta(total)),
        });
      },
      onError(err) {
        current = null;
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
        current = null;
        info.textContent = t("upload.uploaded");
        bar.value = 0;
        if (videoId) void finish(videoId);
      },
    });
    current = up;
    const previous = await up.findPreviousUploads();
    if (previous.length) {
      up.resumeFromPreviousUpload(previous[0]);
      resumedFrom = previous[0].metadata;
      info.textContent = t("upload.resumed");
    }
    up.start();
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    begin().catch((err: unknown) => {
      // Before the upload started (its earlier parts could not be looked up).
      current = null;
      fail(uploadError(0, "", err instanceof Error ? err.message : String(err), limit));
    });
  });

  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    void current?.abort();
  };
};
