// Home (new, popular and, signed in, the subscription feed), search results and liked videos.
import { currentUser, get, type User } from "../api";
import { card, infiniteList } from "../cards";
import { h } from "../dom";
import { t } from "../i18n";
import { problemText } from "../messages";
import { navigate, type PageFn } from "../router";
import { avatar } from "../social";

type HomeTab = "new" | "popular" | "subscriptions";

function homeTabs(current: HomeTab, user: User | null): HTMLElement {
  const tab = (id: HomeTab, href: string, label: string) =>
    h("a.tab", { href, "aria-current": current === id ? "page" : undefined, dataset: { testid: `home-${id}` } }, label);
  return h(
    "nav.tabs",
    { "aria-label": t("nav.home") },
    tab("new", "/", t("home.new")),
    tab("popular", "/?sort=popular", t("home.popular")),
    user ? tab("subscriptions", "/feed", t("home.subscriptions")) : null,
  );
}

export const home: PageFn = async (root, _params, url) => {
  const sort = url.searchParams.get("sort") === "popular" ? "popular" : "new";
  const user = await currentUser();
  // The page's heading for screen readers' outline (the tabs say the rest).
  root.append(h("h1.visually-hidden", {}, t("nav.home")), homeTabs(sort, user));
  if (user) root.append(continueWatching());
  return infiniteList(root, (cursor) => get("/api/v1/videos", { query: { sort, cursor, limit: 24 } }), t("list.empty"));
};

/** A row of the videos I started and did not finish (hidden when there are none). */
function continueWatching(): HTMLElement {
  const row = h("div.shelf-row", { dataset: { testid: "continue-row" } });
  const section = h("section.shelf", { hidden: true }, h("div.page-head", {}, h("h2.shelf-title", {}, t("home.continue")), h("a.muted", { href: "/history" }, t("home.history"))), row);
  get("/api/v1/me/continue-watching", { query: { limit: 12 } })
    .then((page) => {
      row.append(...page.items.map(card));
      section.hidden = !page.items.length;
    })
    .catch(() => {});
  return section;
}

/** The subscription feed: the newest videos of the channels I follow, under a strip of them. */
export const feed: PageFn = async (root) => {
  const user = await currentUser();
  if (!user) {
    navigate("/login?next=/feed", true);
    return;
  }
  const strip = h("nav.sub-strip", { dataset: { testid: "sub-strip" }, "aria-label": t("feed.following") });
  root.append(h("h1.visually-hidden", {}, t("home.subscriptions")), homeTabs("subscriptions", user), strip);
  get("/api/v1/me/subscriptions", { query: { limit: 30 } })
    .then((page) => {
      strip.append(
        ...page.items.map((c) =>
          h("a.sub-chip", { href: `/c/${encodeURIComponent(c.handle)}`, title: c.display_name }, avatar(c.display_name, c.avatar), h("span", {}, c.display_name)),
        ),
      );
      if (page.next_cursor) strip.append(h("a.sub-chip.more", { href: "/channels" }, "…"));
    })
    .catch((e: unknown) => strip.append(h("span.error", {}, problemText(e))));
  return infiniteList(root, (cursor) => get("/api/v1/me/feed", { query: { cursor, limit: 24 } }), t("feed.empty"));
};

export const liked: PageFn = async (root) => {
  if (!(await currentUser())) {
    navigate("/login?next=/liked", true);
    return;
  }
  root.append(h("h1.page-title", {}, t("liked.title")));
  return infiniteList(root, (cursor) => get("/api/v1/me/liked", { query: { cursor, limit: 24 } }), t("liked.empty"));
};

export const search: PageFn = (root, _params, url) => {
  const q = (url.searchParams.get("q") ?? "").trim();
  if (!q) return;
  root.append(h("h1.page-title", {}, t("search.results", { q })));
  return infiniteList(root, (cursor) => get("/api/v1/search", { query: { q, cursor } }), t("search.none", { q }));
};
