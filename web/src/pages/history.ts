// My watch history (/history): latest first, each with how much of it I watched; remove one,
// clear it all, pause it (nothing recorded, nothing resumed) and resume it.
import { call, currentUser, forgetMe, get, type Video } from "../api";
import { infiniteList, watchedBar } from "../cards";
import { h } from "../dom";
import { formatDuration, timeAgo } from "../format";
import { t, tCompact } from "../i18n";
import { problemText } from "../messages";
import { navigate, refresh, type PageFn } from "../router";

function row(v: Video, fail: (e: unknown) => void): HTMLElement {
  const remove = h("button.link.danger", { type: "button", dataset: { testid: "history-remove" } }, t("history.remove"));
  const el = h(
    "div.mine-row.history-row",
    { dataset: { videoId: v.id, testid: "history-row" } },
    h(
      "a.thumb.small",
      { href: `/watch/${v.id}` },
      v.images ? h("img", { src: v.images.poster_small, alt: "", loading: "lazy" }) : h("div.noimg"),
      v.duration_secs ? h("span.badge", {}, formatDuration(v.duration_secs)) : null,
      watchedBar(v),
    ),
    h(
      "div.mine-meta",
      {},
      h("a.card-title", { href: `/watch/${v.id}` }, h("bdi", {}, v.title)),
      h("a.card-channel", { href: `/c/${encodeURIComponent(v.channel.handle)}` }, h("bdi", {}, v.channel.display_name)),
      h("div.muted", {}, tCompact("video.views", v.views), v.published_at ? ` · ${timeAgo(v.published_at)}` : ""),
    ),
    remove,
  );
  remove.addEventListener("click", () => {
    call("delete", "/api/v1/me/history/{video}", { path: { video: v.id } })
      .then(() => el.remove())
      .catch(fail);
  });
  return el;
}

export const history: PageFn = async (root) => {
  const user = await currentUser();
  if (!user) {
    navigate("/login?next=/history", true);
    return;
  }
  let paused = false;
  try {
    paused = (await get("/api/v1/me")).history_paused;
  } catch {
    // Shown as recording; the toggle says what the server answers.
  }
  const error = h("div.error", { role: "alert", hidden: true, dataset: { testid: "history-error" } });
  const fail = (e: unknown) => {
    error.textContent = problemText(e);
    error.hidden = false;
  };
  const note = h("p.notice-box", { dataset: { testid: "history-paused" } }, t("history.pausednote"));
  const pause = h("button", { type: "button", dataset: { testid: "history-pause" } });
  const showPaused = () => {
    pause.textContent = paused ? t("history.resume") : t("history.pause");
    pause.setAttribute("aria-pressed", String(paused));
    note.hidden = !paused;
  };
  showPaused();
  pause.addEventListener("click", () => {
    pause.disabled = true;
    call("put", "/api/v1/me/history/paused", { body: { paused: !paused } })
      .then((answer) => {
        paused = answer.paused;
        forgetMe();
        showPaused();
      })
      .catch(fail)
      .finally(() => {
        pause.disabled = false;
      });
  });
  const clear = h("button.danger", { type: "button", dataset: { testid: "history-clear" } }, t("history.clear"));
  clear.addEventListener("click", () => {
    if (!confirm(t("history.clearconfirm"))) return;
    call("delete", "/api/v1/me/history")
      .then(() => refresh())
      .catch(fail);
  });
  root.append(h("div.page-head", {}, h("h1.page-title", {}, t("history.title")), h("div.form-actions", {}, pause, clear)), note, error);
  return infiniteList(root, (cursor) => get("/api/v1/me/history", { query: { cursor, limit: 24 } }), t("history.empty"), (v) => row(v, fail), h("div.mine-list", { dataset: { testid: "history" } }));
};
