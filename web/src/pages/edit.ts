// A video's details for its owner (and admins), /me/videos/{id}, reached from "My videos" and
// the watch page's "Edit video": its poster (poster.ts), its subtitles (captions.ts) and how it
// may be shared: which sites may embed it (anywhere the site allows, only some, nowhere) and
// whether viewers may download it.
import { ApiError, call, currentUser, get, isAdmin, myChannels, type Video } from "../api";
import { captionsManager } from "../captions";
import { posterManager } from "../poster";
import { h } from "../dom";
import { formatDuration } from "../format";
import { t } from "../i18n";
import { privacyLabel, problemText, statusLine } from "../messages";
import { navigate, type PageFn } from "../router";

/** Who may embed a video, as the form offers it. */
export type EmbedChoice = "anywhere" | "some" | "nowhere";

/** The form's choice and sites for a video's `embed_origins` (`["*"]` or absent: the site's
 * rule; `[]`: nowhere). */
export function embedChoice(origins: readonly string[] | null | undefined): { choice: EmbedChoice; sites: string[] } {
  if (!origins || (origins.length === 1 && origins[0] === "*")) return { choice: "anywhere", sites: [] };
  if (!origins.length) return { choice: "nowhere", sites: [] };
  return { choice: "some", sites: [...origins] };
}

/** What the API is sent for a choice: `["*"]`, `[]` or the sites written one per line (blank
 * lines and repeats left out; the server checks each and says which is not an origin). */
export function embedOrigins(choice: EmbedChoice, text: string): string[] {
  if (choice === "anywhere") return ["*"];
  if (choice === "nowhere") return [];
  return [...new Set(text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean))];
}

/** The sharing settings of `v`: embedding and downloads, saved together. */
function sharing(v: Video): HTMLElement {
  const start = embedChoice(v.embed_origins);
  const name = "embed-choice";
  const radio = (value: EmbedChoice, label: string) => {
    const input = h("input", { type: "radio", name, value, checked: value === start.choice, dataset: { testid: `embed-${value}` } });
    return { input, el: h("label.inline-label", {}, input, label) };
  };
  const anywhere = radio("anywhere", t("sharing.anywhere"));
  const some = radio("some", t("sharing.some"));
  const nowhere = radio("nowhere", t("sharing.nowhere"));
  const hintId = "embed-origins-hint";
  const errorId = "embed-origins-error";
  const sites = h("textarea", {
    name: "embed-origins",
    rows: 3,
    dir: "ltr",
    spellcheck: false,
    placeholder: "https://news.example.org",
    "aria-describedby": `${hintId} ${errorId}`,
    dataset: { testid: "embed-origins" },
  });
  sites.value = start.sites.join("\n");
  const sitesError = h("div.error.small", { id: errorId, hidden: true, dataset: { testid: "embed-origins-error" } });
  const sitesField = h(
    "label.embed-sites",
    {},
    t("sharing.origins"),
    sites,
    h("span.muted.hint", { id: hintId }, t("sharing.originshint")),
    sitesError,
  );
  const choice = (): EmbedChoice => (some.input.checked ? "some" : nowhere.input.checked ? "nowhere" : "anywhere");
  const showSites = () => {
    sitesField.hidden = choice() !== "some";
  };
  for (const r of [anywhere, some, nowhere]) {
    r.input.addEventListener("change", () => {
      showSites();
      if (choice() === "some") sites.focus();
    });
  }
  showSites();
  const fieldError = (text: string) => {
    sitesError.textContent = text;
    sitesError.hidden = !text;
    if (text) sites.setAttribute("aria-invalid", "true");
    else sites.removeAttribute("aria-invalid");
  };

  const download = h("input", { type: "checkbox", name: "downloadable", checked: v.downloadable, dataset: { testid: "downloadable" } });
  const save = h("button.primary", { type: "submit", dataset: { testid: "sharing-save" } }, t("channel.save"));
  const message = h("div.form-message", { role: "status", dataset: { testid: "sharing-message" } });
  const form = h(
    "form.channel-form.sharing-form",
    {},
    h("fieldset", { dataset: { testid: "embed-choice" } }, h("legend", {}, t("sharing.embed")), anywhere.el, some.el, sitesField, nowhere.el),
    h(
      "div.check-field",
      {},
      h("label.inline-label", {}, download, t("sharing.download")),
      h("span.muted.hint", {}, t("sharing.downloadhint")),
    ),
    h("div.form-actions", {}, save, message),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const origins = embedOrigins(choice(), sites.value);
    message.textContent = "";
    message.classList.remove("error");
    if (choice() === "some" && !origins.length) {
      fieldError(t("sharing.noorigins"));
      sites.focus();
      return;
    }
    fieldError("");
    save.disabled = true;
    call("patch", "/api/v1/videos/{id}", { path: { id: v.id }, body: { embed_origins: origins, downloadable: download.checked } })
      .then((saved) => {
        // As the server now has it (origins lower-cased, repeats dropped).
        const now = embedChoice(saved.embed_origins ?? origins);
        if (now.choice === "some") sites.value = now.sites.join("\n");
        download.checked = saved.downloadable;
        message.textContent = t("channel.saved");
      })
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.field === "embed_origins") {
          fieldError(err.detail);
          sites.focus();
        } else {
          message.textContent = problemText(err);
          message.classList.add("error");
        }
      })
      .finally(() => {
        save.disabled = false;
      });
  });
  return h(
    "section.settings-section.sharing-settings",
    { dataset: { testid: "sharing-settings" }, "aria-labelledby": "sharing-heading" },
    h("h2#sharing-heading", {}, t("sharing.title")),
    form,
  );
}

export const editVideo: PageFn = async (root, [id]) => {
  const user = await currentUser();
  if (!user) {
    navigate(`/login?next=${encodeURIComponent(location.pathname)}`, true);
    return;
  }
  let v: Video;
  try {
    v = await get("/api/v1/videos/{id}", { path: { id } });
  } catch (e) {
    const gone = e instanceof ApiError && e.status === 404;
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, gone ? t("video.notfound") : problemText(e)));
    return;
  }
  const mine = await myChannels().catch(() => []);
  if (!isAdmin(user) && !mine.some((c) => c.id === v.channel.id)) {
    root.append(h("p.notice", { dataset: { testid: "notfound" } }, t("video.notfound")));
    return;
  }
  const watch = `/watch/${encodeURIComponent(v.id)}`;
  const status = statusLine(v);
  const picture = v.images ? h("img", { src: v.images.poster_small, alt: "" }) : null;
  // The picture beside the title follows the poster chosen below.
  const poster = posterManager(v, (small) => {
    if (picture) picture.src = small;
  });
  root.append(
    h(
      "div.edit-page",
      { dataset: { testid: "edit-page" } },
      h("a.muted.edit-back", { href: "/me" }, t("nav.mine")),
      h("h1.page-title", {}, t("edit.title")),
      h(
        "div.edit-video",
        {},
        h("a.thumb.small", { href: watch, tabIndex: -1, "aria-hidden": "true" }, picture ?? h("div.noimg"), v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null),
        h(
          "div.mine-meta",
          {},
          h("a.card-title", { href: watch, dataset: { testid: "edit-title" } }, h("bdi", {}, v.title)),
          h("div.muted", {}, privacyLabel(v.privacy), status ? ` · ${status}` : ""),
        ),
      ),
      poster.el,
      captionsManager(v.id),
      sharing(v),
    ),
  );
  // Leaving the page stops asking about a picture being made.
  return poster.stop;
};
