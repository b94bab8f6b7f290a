// The owner's side of a video's captions (YouTube Studio's Subtitles tab): the languages it has
// (name in the menu, cues, when sent), a file sent per language (.srt or .vtt, as the server
// reads either), replaced or deleted. The server reads the file strictly and names the line at
// fault; its words are shown as they are.
import { ApiError, call, get, putCaptions, type Caption } from "./api";
import { h } from "./dom";
import { timeAgo } from "./format";
import { lang as uiLang, t } from "./i18n";
import { problemText } from "./messages";

/** Languages offered first (the tag as the API takes it): the interface's, the region's and
 * widely spoken ones. Any other BCP 47 tag can be typed. */
export const CAPTION_LANGUAGES: readonly string[] = [
  "ru", "en", "ar", "uk", "kk", "uz", "tt", "ky", "tg", "az", "hy", "ka", "be", "ba", "cv",
  "de", "fr", "es", "it", "pt", "tr", "fa", "he", "hi", "ur", "zh", "ja", "ko", "id",
];

/** The largest file the server takes. */
export const MAX_CAPTION_BYTES = 2 * 1024 * 1024;

/** `tag`'s name in that language itself ("Deutsch", "العربية", "Татарча"), first letter up,
 * or the tag when the browser has no name for it. */
export function ownName(tag: string): string {
  try {
    const name = new Intl.DisplayNames([tag], { type: "language" }).of(tag);
    if (!name || name === tag) return tag;
    return name.charAt(0).toLocaleUpperCase(tag) + name.slice(1);
  } catch {
    return tag;
  }
}

/** A language tag in its canonical form ("pt-br" → "pt-BR"), or `null` when it is none. */
export function languageTag(text: string): string | null {
  const s = text.trim();
  if (!/^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(s)) return null;
  try {
    return Intl.getCanonicalLocales(s)[0] ?? null;
  } catch {
    return null;
  }
}

/** The type a caption file is sent under: by its name's extension, else by its first line
 * (a WebVTT file starts with "WEBVTT"). */
export function captionType(name: string, head = ""): "text/vtt" | "application/x-subrip" {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  if (ext === "vtt") return "text/vtt";
  if (ext === "srt") return "application/x-subrip";
  return /^\uFEFF?WEBVTT/.test(head) ? "text/vtt" : "application/x-subrip";
}

/** The words for a file the server refused (or another failed call). */
export function captionProblem(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === "invalid_captions") return t("captions.invalid", { detail: e.detail });
    if (e.code === "too_many_captions") return t("captions.toomany");
    if (e.status === 413 || e.code === "body_too_large" || e.code === "too_large") return t("captions.toolarge");
    if (e.status === 415 || e.code === "unsupported_media_type") return t("captions.type");
  }
  return problemText(e);
}

/** The file under the type the server reads it by. */
async function typed(file: File): Promise<Blob> {
  const head = await file.slice(0, 16).text();
  return new Blob([file], { type: captionType(file.name, head) });
}

/** The manager of the captions of video `id`: the list, and a form to add or replace one. */
export function captionsManager(id: string): HTMLElement {
  const message = h("div.form-message", { role: "status", dataset: { testid: "captions-message" } });
  const say = (text: string, error = false) => {
    message.replaceChildren(h("bdi", {}, text));
    message.classList.toggle("error", error);
  };
  const list = h("ul.caption-list", { "aria-label": t("captions.list"), dataset: { testid: "caption-list" } });
  const none = h("p.muted", { dataset: { testid: "captions-none" } }, t("captions.none"));

  const load = async () => {
    const answer = await get("/api/v1/videos/{id}/captions", { path: { id } });
    list.replaceChildren(...answer.items.map(row));
    list.hidden = !answer.items.length;
    none.hidden = !!answer.items.length;
  };

  /** Sends `file` for `tag`; says how it went. */
  const send = async (tag: string, label: string, file: File, busy: HTMLButtonElement) => {
    if (file.size > MAX_CAPTION_BYTES) return say(t("captions.toolarge"), true);
    busy.disabled = true;
    say(t("captions.sending"));
    try {
      const saved = await putCaptions(id, tag, label, await typed(file));
      const words = [t("captions.saved", { language: saved.label, cues: t("captions.cues", { n: saved.cues }) })];
      if (saved.back_to_review) words.push(t("captions.review"));
      say(words.join(" "));
      await load().catch(() => {});
      return true;
    } catch (e) {
      say(captionProblem(e), true);
      return false;
    } finally {
      busy.disabled = false;
    }
  };

  function row(c: Caption): HTMLElement {
    const name = ownName(c.lang);
    const replaceFile = h("input", { type: "file", accept: ".srt,.vtt,text/vtt,application/x-subrip", hidden: true, tabIndex: -1, dataset: { testid: "caption-replace-file" } });
    const replace = h("button.small", { type: "button", "aria-label": t("captions.replacelabel", { language: c.label }), dataset: { testid: "caption-replace" } }, t("captions.replace"));
    replace.addEventListener("click", () => replaceFile.click());
    replaceFile.addEventListener("change", () => {
      const file = replaceFile.files?.[0];
      if (file) void send(c.lang, c.label === name ? "" : c.label, file, replace);
      replaceFile.value = "";
    });
    const remove = h("button.small.danger", { type: "button", "aria-label": t("captions.deletelabel", { language: c.label }), dataset: { testid: "caption-delete" } }, t("captions.delete"));
    remove.addEventListener("click", () => {
      if (!confirm(t("captions.confirm", { language: c.label }))) return;
      remove.disabled = true;
      call("delete", "/api/v1/videos/{id}/captions/{lang}", { path: { id, lang: c.lang } })
        .then(async () => {
          say(t("captions.deleted", { language: c.label }));
          await load().catch(() => {});
          form.querySelector<HTMLElement>("select, input")?.focus();
        })
        .catch((e: unknown) => {
          remove.disabled = false;
          say(captionProblem(e), true);
        });
    });
    return h(
      "li.caption-row",
      { dataset: { testid: "caption-row", lang: c.lang } },
      h(
        "div.caption-name",
        {},
        h("strong", { lang: c.lang, dir: "auto" }, c.label),
        h("span.pill", { dir: "ltr" }, c.lang),
      ),
      h(
        "div.muted.small",
        {},
        h("span", { dataset: { testid: "caption-cues" } }, t("captions.cues", { n: c.cues })),
        " · ",
        h("span", {}, t("captions.updated", { when: timeAgo(c.updated_at) })),
      ),
      h("div.caption-actions", {}, replace, replaceFile, remove),
    );
  }

  // Adding one: the language (in its own name; any other by its tag), the menu's name, the file.
  const other = "other";
  const choice = h(
    "select",
    { name: "caption-language", dataset: { testid: "caption-lang" } },
    ...CAPTION_LANGUAGES.map((tag) => h("option", { value: tag, lang: tag, selected: tag === uiLang() }, `${ownName(tag)} (${tag})`)),
    h("option", { value: other }, t("captions.other")),
  );
  const tag = h("input", { name: "caption-tag", dir: "ltr", autocomplete: "off", spellcheck: false, placeholder: "pt-BR", maxLength: 35, dataset: { testid: "caption-tag" } });
  const tagField = h("label", { hidden: true }, t("captions.tag"), tag, h("span.muted.hint", {}, t("captions.taghint")));
  choice.addEventListener("change", () => {
    tagField.hidden = choice.value !== other;
    if (!tagField.hidden) tag.focus();
  });
  const label = h("input", { name: "caption-label", maxLength: 40, dir: "auto", dataset: { testid: "caption-label" } });
  const file = h("input", { type: "file", name: "caption-file", required: true, accept: ".srt,.vtt,text/vtt,application/x-subrip", dataset: { testid: "caption-file" } });
  const upload = h("button.primary", { type: "submit", dataset: { testid: "caption-upload" } }, t("captions.upload"));
  const form = h(
    "form.channel-form.caption-form",
    { dataset: { testid: "caption-form" } },
    h("h3", {}, t("captions.add")),
    h("label", {}, t("captions.language"), choice),
    tagField,
    h("label", {}, t("captions.label"), label, h("span.muted.hint", {}, t("captions.labelhint"))),
    h("label", {}, t("captions.file"), file),
    h("div.form-actions", {}, upload),
  );
  form.noValidate = true;
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const chosen = choice.value === other ? languageTag(tag.value) : choice.value;
    if (!chosen) {
      tag.setAttribute("aria-invalid", "true");
      tag.focus();
      return say(t("captions.badtag", { tag: tag.value.trim() }), true);
    }
    tag.removeAttribute("aria-invalid");
    const picked = file.files?.[0];
    if (!picked) {
      file.focus();
      return say(t("captions.nofile"), true);
    }
    void send(chosen, label.value, picked, upload).then((ok) => {
      if (!ok) return;
      file.value = "";
      label.value = "";
    });
  });

  const el = h(
    "section.settings-section.captions-manager",
    { dataset: { testid: "captions-manager" }, "aria-labelledby": "captions-heading" },
    h("h2#captions-heading", {}, t("captions.title")),
    h("p.muted", {}, t("captions.hint")),
    list,
    none,
    form,
    message,
  );
  list.hidden = true;
  load().catch((e: unknown) => say(problemText(e), true));
  return el;
}
