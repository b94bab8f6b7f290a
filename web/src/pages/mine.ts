// My videos: every state, progress, failure reason, visibility switch, a link to each one's
// details (subtitles, sharing: /me/videos/{id}) and delete.
import { call, currentUser, get, type Video } from "../api";
import { infiniteList } from "../cards";
import { h } from "../dom";
import { formatDuration } from "../format";
import { t } from "../i18n";
import { isPrivacy, privacyChoices } from "../limits";
import { navigate, type PageFn } from "../router";
import { privacyLabel, statusLine } from "../messages";

function row(v: Video): HTMLElement {
  const privacy = h(
    "select",
    { dataset: { testid: "privacy" }, "aria-label": t("mine.privacy") },
    ...privacyChoices.map((p) => h("option", { value: p, selected: p === v.privacy }, privacyLabel(p))),
  );
  const message = h("div.error", { hidden: true });
  const setPrivacy = async () => {
    try {
      const wanted = privacy.value;
      if (!isPrivacy(wanted)) throw new Error(`unknown visibility "${wanted}"`);
      // What the server now says, so a later failed change goes back to it.
      v.privacy = (await call("patch", "/api/v1/videos/{id}", { path: { id: v.id }, body: { privacy: wanted } })).privacy;
      message.hidden = true;
    } catch (e) {
      privacy.value = v.privacy;
      message.textContent = t("error.generic", { reason: (e as Error).message });
      message.hidden = false;
    }
  };
  privacy.addEventListener("change", () => void setPrivacy());
  const edit = h(
    "a.button",
    { href: `/me/videos/${encodeURIComponent(v.id)}`, "aria-label": t("mine.editlabel", { title: v.title }), dataset: { testid: "edit" } },
    t("mine.edit"),
  );
  const del = h("button.danger", { type: "button", dataset: { testid: "delete" } }, t("mine.delete"));
  const el = h(
    "div.mine-row",
    { dataset: { videoId: v.id, testid: "mine-row" } },
    h("a.thumb.small", { href: `/watch/${v.id}` }, v.images ? h("img", { src: v.images.poster_small, alt: "" }) : h("div.noimg"), v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null),
    h(
      "div.mine-meta",
      {},
      h("a.card-title", { href: `/watch/${v.id}` }, h("bdi", {}, v.title)),
      // Which of my channels it is on.
      h("a.card-channel", { href: `/c/${encodeURIComponent(v.channel.handle)}` }, h("bdi", {}, v.channel.display_name)),
      h("div.muted", { dataset: { testid: "status" } }, t(`status.${v.status}`), " ", statusLine(v)),
      v.status === "processing" ? h("progress.progress", { max: 100, value: v.progress }) : null,
    ),
    privacy,
    edit,
    del,
    message,
  );
  const remove = async () => {
    if (!confirm(t("mine.confirm", { title: v.title }))) return;
    try {
      await call("delete", "/api/v1/videos/{id}", { path: { id: v.id } });
      el.remove();
    } catch (e) {
      message.textContent = t("error.generic", { reason: (e as Error).message });
      message.hidden = false;
    }
  };
  del.addEventListener("click", () => void remove());
  return el;
}

export const mine: PageFn = async (root) => {
  if (!(await currentUser())) {
    navigate("/login?next=/me", true);
    return;
  }
  root.append(h("h1.page-title", {}, t("mine.title")));
  return infiniteList(root, (cursor) => get("/api/v1/me/videos", { query: { cursor } }), t("mine.empty"), row, h("div.mine-list"));
};
