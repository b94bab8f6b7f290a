// The community's small controls, shared by the watch page, the shorts feed and the channel
// page: a channel's avatar, the subscribe button, and like/dislike with counts. Changes show
// at once (the server folds counts about a second later) and go back if refused.
import { call, get, type Channel, type Rating, type User, type Video } from "./api";
import { h } from "./dom";
import { formatCount, t } from "./i18n";
import { icon } from "./icons";
import { problemText } from "./messages";
import { Optimistic, pressed, rerate, toggled, type Tally, type Toggle } from "./optimistic";
import { navigate } from "./router";

/** Sends a signed-out viewer to sign in, back here afterwards. */
export function toLogin(): void {
  navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** A channel's (or a user's) round picture: its avatar, else its first letter. */
export function avatar(name: string, picture?: Channel["avatar"], size: "small" | "large" = "small"): HTMLElement {
  const url = picture ? (size === "small" ? (picture.small ?? picture.url) : picture.url) : null;
  if (url) return h(`img.avatar.${size}`, { src: url, alt: "" });
  return h(`div.avatar.${size}`, { "aria-hidden": "true" }, Array.from(name.trim())[0]?.toUpperCase() ?? "?");
}

/** What the subscribe button needs of a channel. */
export type Subscribable = Pick<Channel, "handle" | "subscribers" | "subscribed" | "mine">;

/**
 * The subscribe button of a channel, or null for one's own. Signed out, it leads to the
 * sign-in page. `onCount` hears the subscriber count as it changes.
 */
export function subscribeButton(c: Subscribable, user: User | null, onCount?: (n: number) => void): HTMLElement | null {
  if (c.mine) return null;
  if (!user) {
    return h("button.subscribe", { type: "button", dataset: { testid: "subscribe" }, onclick: toLogin }, t("channel.subscribe"));
  }
  const button = h("button.subscribe", { type: "button", dataset: { testid: "subscribe" } });
  const error = h("span.error.inline", { role: "alert", hidden: true });
  const show = (s: Toggle) => {
    button.textContent = s.on ? t("channel.subscribed") : t("channel.subscribe");
    button.title = s.on ? t("channel.unsubscribe") : "";
    button.setAttribute("aria-pressed", String(s.on));
    button.classList.toggle("on", s.on);
    onCount?.(s.count);
  };
  const state = new Optimistic<Toggle>(
    { on: !!c.subscribed, count: c.subscribers },
    {
      async send(s) {
        const path = { handle: c.handle };
        const answer = s.on
          ? await call("put", "/api/v1/channels/{handle}/subscription", { path })
          : await call("delete", "/api/v1/channels/{handle}/subscription", { path });
        return { on: answer.subscribed, count: answer.subscribers };
      },
      show,
      failed(e) {
        error.textContent = problemText(e);
        error.hidden = false;
      },
      same: (a, b) => a.on === b.on,
    },
  );
  show(state.state);
  button.addEventListener("click", () => {
    error.hidden = true;
    void state.set(toggled(state.state, !state.state.on));
  });
  return h("span.subscribe-wrap", {}, button, error);
}

/** Names an icon button with a count for screen readers: "Like 12". The visible count is part
 * of the name, as it must be for those who speak to their computer (WCAG 2.5.3). */
export function named(button: HTMLElement, label: string, count: string): void {
  button.setAttribute("aria-label", count ? `${label} ${count}` : label);
}

/** Like and dislike buttons of a video with its counts; the dislike count shows where the
 * server tells it (the owner, or everyone when so configured). */
export function ratingButtons(v: Pick<Video, "id" | "likes" | "dislikes">, user: User | null, opts: { vertical?: boolean } = {}): HTMLElement {
  const likeCount = h("span.count", { dataset: { testid: "likes" } });
  const dislikeCount = h("span.count", { dataset: { testid: "dislikes" } });
  const like = h("button.rate.like", { type: "button", title: t("rating.like"), dataset: { testid: "like" } }, icon("like"), likeCount);
  const dislike = h("button.rate.dislike", { type: "button", title: t("rating.dislike"), dataset: { testid: "dislike" } }, icon("dislike"), dislikeCount);
  const error = h("span.error.inline", { role: "alert", hidden: true });
  const show = (s: Tally) => {
    likeCount.textContent = formatCount(s.likes);
    dislikeCount.textContent = s.dislikes === null ? "" : formatCount(s.dislikes);
    named(like, t("rating.like"), likeCount.textContent);
    named(dislike, t("rating.dislike"), dislikeCount.textContent);
    like.setAttribute("aria-pressed", String(s.rating === "like"));
    dislike.setAttribute("aria-pressed", String(s.rating === "dislike"));
  };
  const initial: Tally = { likes: v.likes, dislikes: v.dislikes ?? null, rating: "none" };
  const state = new Optimistic<Tally>(initial, {
    async send(s) {
      await call("put", "/api/v1/videos/{id}/rating", { path: { id: v.id }, body: { rating: s.rating } });
    },
    show,
    failed(e) {
      error.textContent = problemText(e);
      error.hidden = false;
    },
    same: (a, b) => a.rating === b.rating,
  });
  show(initial);
  const press = (button: "like" | "dislike") => {
    if (!user) return toLogin();
    error.hidden = true;
    const next: Rating = pressed(state.state.rating, button);
    void state.set(rerate(state.state, next));
  };
  like.addEventListener("click", (e) => (e.stopPropagation(), press("like")));
  dislike.addEventListener("click", (e) => (e.stopPropagation(), press("dislike")));
  // The viewer's own rating: the counts already include it.
  if (user) {
    get("/api/v1/videos/{id}/rating", { path: { id: v.id } })
      .then((r) => state.reset({ ...initial, rating: r.rating }))
      .catch(() => {});
  }
  return h(opts.vertical ? "div.rating.vertical" : "div.rating", { dataset: { testid: "rating" } }, like, dislike, error);
}
