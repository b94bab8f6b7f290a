// Sharing a video: its link (optionally starting at a time, `?t=`), the embed code for other
// sites (an iframe of `/embed/{id}` with its options), and the dialog that offers both. The
// watch page and the embed read `?t=` with `parseStart`.
import { openDialog } from "./dialog";
import { debounce, h } from "./dom";
import { formatDuration } from "./format";
import { t } from "./i18n";

/** The longest start time taken (a day and then some): a bigger number is a typo or a prank. */
const MAX_START = 100 * 3600;

/**
 * A start time as links write it: seconds ("90", "90.5", "90s"), units ("1m30s", "1h2m3s", in
 * that order, each at most once) or a clock ("1:30", "1:02:03"). `null` for anything else,
 * including negative and absurdly large values.
 */
export function parseStart(text: string | null | undefined): number | null {
  const s = (text ?? "").trim().toLowerCase();
  if (!s) return null;
  let secs: number;
  if (/^\d+(\.\d+)?s?$/.test(s)) secs = Number.parseFloat(s);
  else if (/^\d+(:[0-5]?\d){1,2}$/.test(s)) secs = s.split(":").reduce((acc, p) => acc * 60 + Number(p), 0);
  else {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(s);
    if (!m || (!m[1] && !m[2] && !m[3])) return null;
    secs = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  }
  return Number.isFinite(secs) && secs >= 0 && secs <= MAX_START ? secs : null;
}

/** The address of the watch page of `id`, starting at `start` seconds (whole ones) when given. */
export function watchUrl(origin: string, id: string, start?: number | null): string {
  const at = start != null && start >= 1 ? `?t=${Math.floor(start)}` : "";
  return `${origin}/watch/${encodeURIComponent(id)}${at}`;
}

export interface EmbedOptions {
  /** Start at, seconds. */
  start?: number | null;
  /** Starts by itself, muted (browsers allow no sound before a gesture). */
  autoplay?: boolean;
  loop?: boolean;
  /** Goes on with the playlist's next video at the end. */
  list?: string | null;
}

/** The address of the embed of `id` with its options in the query. */
export function embedUrl(origin: string, id: string, o: EmbedOptions = {}): string {
  const q = new URLSearchParams();
  if (o.start != null && o.start >= 1) q.set("t", String(Math.floor(o.start)));
  if (o.autoplay) q.set("autoplay", "1");
  if (o.loop) q.set("loop", "1");
  if (o.list) q.set("list", o.list);
  const query = q.toString();
  return `${origin}/embed/${encodeURIComponent(id)}${query ? `?${query}` : ""}`;
}

/** `s` safe inside a double-quoted HTML attribute. */
export function escapeAttr(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/'/g, "&#39;");
}

/** The HTML another site pastes to show the video: YouTube's size and permissions, so it drops
 * in where theirs did. */
export function embedCode(origin: string, id: string, title: string, o: EmbedOptions = {}): string {
  const src = escapeAttr(embedUrl(origin, id, o));
  return (
    `<iframe width="560" height="315" src="${src}" title="${escapeAttr(title)}" frameborder="0" ` +
    `allow="autoplay; encrypted-media; picture-in-picture; fullscreen" allowfullscreen></iframe>`
  );
}

/** Copies `text`; the clipboard API needs a secure context (https or localhost), else the
 * field's selection is copied the old way. */
async function copy(text: string, field: HTMLInputElement | HTMLTextAreaElement): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    field.select();
    try {
      return document.execCommand("copy");
    } catch {
      return false;
    }
  }
}

/** A read-only field with a copy button and a status line that says it was copied. */
export function copyRow(field: HTMLInputElement | HTMLTextAreaElement, label: string, testid: string): HTMLElement {
  const status = h("span.share-copied.muted.small", { role: "status", dataset: { testid: `${testid}-status` } });
  const button = h("button.share-copy", { type: "button", dataset: { testid: `${testid}-copy` } }, t("share.copy"));
  button.setAttribute("aria-label", `${t("share.copy")}: ${label}`);
  button.addEventListener("click", () => {
    void copy(field.value, field).then((ok) => {
      status.textContent = ok ? t("share.copied") : "";
      field.focus();
      field.select();
    });
  });
  field.addEventListener("focus", () => field.select());
  return h("div.share-row", {}, field, button, status);
}

/** A check box with its label. */
function check(label: string, testid: string, checked = false): { el: HTMLElement; box: HTMLInputElement } {
  const box = h("input", { type: "checkbox", checked, dataset: { testid } });
  return { el: h("label.inline-label.share-option", {}, box, label), box };
}

/** The share dialog of `video` watched at `time` seconds: the link (at that time if asked) and
 * the embed code with its options, each with a copy button. With `still` (a picture's address
 * at a time), the picture at the shared time is shown while "start at" is ticked. */
export function shareDialog(
  video: { id: string; title: string },
  time: number,
  origin = location.origin,
  still?: (secs: number) => string,
): void {
  const at = Math.max(0, Math.floor(time));
  const atText = formatDuration(at);
  // The time can be edited, as YouTube lets one: "1:30", "90", "1m30s".
  const startField = h("input.share-start", { type: "text", value: atText, size: 8, dir: "ltr", "aria-label": t("share.startat"), dataset: { testid: "share-start-time" } });
  const startAt = check(t("share.startat"), "share-at");
  const link = h("input.share-link", { type: "text", readOnly: true, dir: "ltr", "aria-label": t("share.link"), dataset: { testid: "share-link" } });
  const start = () => (startAt.box.checked ? (parseStart(startField.value) ?? at) : null);

  const code = h("textarea.share-code", { readOnly: true, rows: 4, dir: "ltr", "aria-label": t("share.embed"), dataset: { testid: "share-embed" } });
  const embedStart = check(t("share.startat"), "share-embed-at");
  const autoplay = check(t("share.autoplay"), "share-embed-autoplay");
  const loop = check(t("share.loop"), "share-embed-loop");
  // The picture at the shared time (whole seconds, as the link has it), asked for once the
  // time stops changing.
  const preview = still ? h("img.share-still", { alt: "", loading: "lazy", decoding: "async", width: 320, height: 180, hidden: true, dataset: { testid: "share-still" } }) : null;
  let previewAt: number | null = null;
  const loadPreview = debounce((secs: number) => {
    if (!preview || !still || secs === previewAt) return;
    previewAt = secs;
    preview.alt = t("player.stillat", { time: formatDuration(secs) });
    preview.src = still(secs);
  }, 250);
  const showPreview = () => {
    if (!preview) return;
    const secs = startAt.box.checked || embedStart.box.checked ? Math.floor(parseStart(startField.value) ?? at) : null;
    preview.hidden = secs === null;
    if (secs !== null) loadPreview(secs);
  };
  const render = () => {
    showPreview();
    link.value = watchUrl(origin, video.id, start());
    code.value = embedCode(origin, video.id, video.title, {
      start: embedStart.box.checked ? (parseStart(startField.value) ?? at) : null,
      autoplay: autoplay.box.checked,
      loop: loop.box.checked,
    });
  };
  for (const input of [startAt.box, embedStart.box, autoplay.box, loop.box]) input.addEventListener("change", render);
  startField.addEventListener("input", () => {
    startField.setAttribute("aria-invalid", String(parseStart(startField.value) === null));
    render();
  });
  render();
  openDialog(t("share.title"), "share-dialog", [
    h("h3.share-heading", {}, t("share.link")),
    copyRow(link, t("share.link"), "share-link"),
    h("div.share-options", {}, startAt.el, startField),
    preview,
    h("h3.share-heading", {}, t("share.embed")),
    copyRow(code, t("share.embed"), "share-embed"),
    h("div.share-options", {}, embedStart.el, autoplay.el, loop.el),
  ]);
  link.focus();
}
