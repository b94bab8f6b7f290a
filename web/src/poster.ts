// The owner's choice of a video's poster (YouTube Studio's Thumbnail): the one viewers see now,
// the frames the transcoder proposed as a group of radio buttons (arrow keys move and choose;
// each choice is saved at once), a picture of one's own (the worker makes it: "processing…"
// until the server says it is shown, or why it was refused) and back to the automatic one.
// The server judges a picture by its bytes; its problem's title is shown as it is.
import { ApiError, call, get, putPoster, type Poster, type Video } from "./api";
import { h } from "./dom";
import { t } from "./i18n";
import { problemText } from "./messages";

/** The largest picture the server takes. */
export const MAX_POSTER_BYTES = 10 * 1024 * 1024;
/** How often a picture being made is asked about, and for how long at most. */
export const POSTER_POLL_MS = 1000;
export const POSTER_WAIT_MS = 60_000;

/** A frame's name ("Frame 2 of 4"), from its place among `count` (the API numbers from 0). */
export function frameName(index: number, count: number): string {
  return t("poster.frame", { i: index + 1, n: count });
}

/** What the poster is now, in words. */
export function posterSource(p: Pick<Poster, "source" | "frame" | "frames">): string {
  if (p.source === "custom") return t("poster.custom");
  if (p.source === "frame" && p.frame !== null && p.frame !== undefined) {
    const at = p.frames.findIndex((f) => f.index === p.frame);
    return frameName(at < 0 ? p.frame : at, p.frames.length);
  }
  return t("poster.auto");
}

/** The words for a refused picture (or another failed call): the server's title, and its
 * detail when it says more ("at least 320 × 180 pixels"). */
export function posterProblem(e: unknown): string {
  if (e instanceof ApiError && e.title && e.status !== 401 && e.status !== 429) {
    const more = e.detail && e.detail !== e.title ? ` (${e.detail})` : "";
    const words = `${e.title}${more}`;
    return e.status === 413 || e.status === 415 ? t("poster.refused", { reason: words }) : words;
  }
  return problemText(e);
}

/** The type a picture is sent under: its own when it is one the server reads, else none the
 * server takes (it answers which it wants). */
export function pictureType(file: Pick<File, "type">): string {
  return ["image/jpeg", "image/png", "image/webp"].includes(file.type) ? file.type : file.type || "application/octet-stream";
}

/** The poster manager of `v`; `changed` hears the small picture of each new poster. `stop`
 * ends its asking (on leaving the page). */
export function posterManager(v: Video, changed: (small: string) => void = () => {}): { el: HTMLElement; stop: () => void } {
  const id = v.id;
  let poster: Poster | null = null;
  /** The number of the latest request: answers to earlier ones are not shown. */
  let asked = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  /** Requests go one after the other (the server keeps the last to arrive, and two at once
   * may arrive in either order); one superseded before its turn is not sent. */
  let turn: Promise<void> = Promise.resolve();
  const inTurn = (my: number, send: () => Promise<void>) => {
    turn = turn.then(() => (stopped || my !== asked ? undefined : send())).catch(() => {});
  };
  /** Whether the video was waiting for review before a picture was sent. */
  let wasPending = v.moderation?.state === "pending";

  const message = h("div.form-message", { role: "status", dataset: { testid: "poster-message" } });
  const say = (text: string, error = false) => {
    message.replaceChildren(h("bdi", {}, text));
    message.classList.toggle("error", error);
  };
  const current = h("img.poster-current-img", { alt: t("poster.current"), dataset: { testid: "poster-current" } });
  const source = h("span.muted.small", { dataset: { testid: "poster-source" } });
  const frames = h("fieldset.poster-frames", { role: "radiogroup", dataset: { testid: "poster-frames" } });
  const noFrames = h("p.muted", { hidden: true, dataset: { testid: "poster-noframes" } }, t("poster.noframes"));
  const file = h("input.visually-hidden", { type: "file", name: "poster-file", accept: "image/jpeg,image/png,image/webp", dataset: { testid: "poster-file" } });
  const upload = h("label.button.poster-upload", { dataset: { testid: "poster-upload" } }, file, t("poster.upload"));
  const auto = h("button", { type: "button", dataset: { testid: "poster-auto" } }, t("poster.useauto"));

  /** Shows `p` as the server has it. */
  const show = (p: Poster) => {
    poster = p;
    const small = p.small_url ?? p.url;
    if (small && current.getAttribute("src") !== small) {
      current.src = small;
      changed(small);
    }
    current.hidden = !small;
    // The box of the video's shape before the picture comes (nothing below moves).
    const shape = p.frames.find((f) => f.width && f.height);
    if (shape?.width && shape.height) {
      current.width = Math.round((180 * shape.width) / shape.height);
      current.height = 180;
    }
    source.textContent = p.pending ? t("poster.processing") : posterSource(p);
    const chosen = p.source === "frame" ? p.frame : null;
    if (frames.childElementCount !== p.frames.length + 1) {
      frames.replaceChildren(
        h("legend", {}, t("poster.frames")),
        ...p.frames.map((f, i) => {
          const input = h("input.visually-hidden", { type: "radio", name: "poster-frame", value: String(f.index), dataset: { testid: "poster-frame", index: String(f.index) } });
          input.addEventListener("change", () => {
            if (input.checked) choose(f.index, i);
          });
          return h(
            "label.poster-frame",
            {},
            input,
            h("img", { src: f.small_url, alt: frameName(i, p.frames.length), width: f.width && f.height ? Math.round((90 * f.width) / f.height) : 160, height: 90, loading: "lazy" }),
          );
        }),
      );
    }
    for (const input of frames.querySelectorAll<HTMLInputElement>("input[type=radio]")) input.checked = chosen !== null && input.value === String(chosen);
    frames.hidden = !p.frames.length;
    noFrames.hidden = !!p.frames.length;
    auto.disabled = p.source === "auto" && !p.pending;
  };

  const stopAsking = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  /** Once the picture sent is made (or refused, or still not after a minute): says so. */
  const settled = async (p: Poster, my: number) => {
    if (p.pending) return say(t("poster.slow"));
    if (p.refused) return say(t("poster.refused", { reason: p.refused }), true);
    if (p.source !== "custom") return;
    const words = [t("poster.customsaved")];
    // A picture of one's own is new to viewers: from an owner who is not trusted it sends an
    // approved video back to review.
    const now = await get("/api/v1/videos/{id}", { path: { id } }).catch(() => null);
    if (stopped || my !== asked) return;
    if (now?.moderation?.state === "pending" && !wasPending) words.push(t("captions.review"));
    wasPending = now?.moderation?.state === "pending";
    say(words.join(" "));
  };

  /** Asks every second while the server makes a picture, up to a minute. */
  const askUntilMade = (my: number, until = Date.now() + POSTER_WAIT_MS) => {
    stopAsking();
    timer = setTimeout(() => {
      timer = undefined;
      get("/api/v1/videos/{id}/poster", { path: { id } })
        .then((p) => {
          if (stopped || my !== asked) return;
          show(p);
          if (p.pending && Date.now() < until) askUntilMade(my, until);
          else void settled(p, my);
        })
        .catch((e: unknown) => {
          if (!stopped && my === asked) say(posterProblem(e), true);
        });
    }, POSTER_POLL_MS);
  };

  /** The answer to a choice: shown, and asked about again while a picture is still made. */
  const answered = (p: Poster, my: number, words: string) => {
    if (stopped || my !== asked) return;
    show(p);
    say(words);
    if (p.pending) askUntilMade(my);
  };

  const choose = (index: number, place: number) => {
    const my = ++asked;
    stopAsking();
    say(t("poster.saving"));
    inTurn(my, () =>
      call("put", "/api/v1/videos/{id}/poster", { path: { id }, body: { frame: index } })
        .then((p) => answered(p, my, t("poster.framesaved", { i: place + 1, n: p.frames.length })))
        .catch((e: unknown) => {
          if (stopped || my !== asked) return;
          say(posterProblem(e), true);
          if (poster) show(poster);
        }),
    );
  };

  auto.addEventListener("click", () => {
    const my = ++asked;
    stopAsking();
    auto.disabled = true;
    say(t("poster.saving"));
    inTurn(my, () =>
      call("delete", "/api/v1/videos/{id}/poster", { path: { id } })
        .then((p) => answered(p, my, t("poster.autosaved")))
        .catch((e: unknown) => {
          if (stopped || my !== asked) return;
          say(posterProblem(e), true);
          if (poster) show(poster);
        }),
    );
  });

  file.addEventListener("change", () => {
    const picked = file.files?.[0];
    file.value = "";
    if (!picked) return;
    if (picked.size > MAX_POSTER_BYTES) return say(t("poster.toolarge"), true);
    const my = ++asked;
    stopAsking();
    file.disabled = true;
    upload.classList.add("disabled");
    say(t("poster.sending"));
    const done = () => {
      file.disabled = false;
      upload.classList.remove("disabled");
    };
    inTurn(my, () =>
      putPoster(id, new Blob([picked], { type: pictureType(picked) }))
        .then(async () => {
          if (stopped || my !== asked) return;
          say(t("poster.processing"));
          const p = await get("/api/v1/videos/{id}/poster", { path: { id } });
          if (stopped || my !== asked) return;
          show(p);
          if (p.pending) askUntilMade(my);
          else await settled(p, my);
        })
        .catch((e: unknown) => {
          if (!stopped && my === asked) say(posterProblem(e), true);
        })
        .finally(done),
    );
    // Superseded before its turn (a frame chosen meanwhile): the button comes back anyway.
    turn = turn.finally(done);
  });

  const el = h(
    "section.settings-section.poster-manager",
    { dataset: { testid: "poster-manager" }, "aria-labelledby": "poster-heading" },
    h("h2#poster-heading", {}, t("poster.title")),
    h("p.muted", {}, t("poster.hint")),
    h("figure.poster-current", {}, current, h("figcaption", {}, source)),
    frames,
    noFrames,
    h("div.form-actions.poster-actions", {}, upload, auto),
    h("p.muted.small", {}, t("poster.uploadhint")),
    message,
  );
  frames.hidden = true;
  current.hidden = true;
  const first = ++asked;
  get("/api/v1/videos/{id}/poster", { path: { id } })
    .then((p) => {
      if (stopped || first !== asked) return;
      show(p);
      if (p.pending) {
        say(t("poster.processing"));
        askUntilMade(first);
      } else if (p.refused) say(t("poster.refused", { reason: p.refused }), true);
    })
    .catch((e: unknown) => say(posterProblem(e), true));
  return {
    el,
    stop: () => {
      stopped = true;
      stopAsking();
    },
  };
}
