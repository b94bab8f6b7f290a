// Home (new and popular), search results and a channel's page.
import { get, type Channel } from "../api";
import { infiniteList } from "../cards";
import { h } from "../dom";
import { t } from "../i18n";
import type { PageFn } from "../router";

export const home: PageFn = (root, _params, url) => {
  const sort = url.searchParams.get("sort") === "popular" ? "popular" : "new";
  root.append(
    h(
      "nav.tabs",
      {},
      h("a.tab", { href: "/", "aria-current": sort === "new" ? "page" : undefined }, t("home.new")),
      h("a.tab", { href: "/?sort=popular", "aria-current": sort === "popular" ? "page" : undefined }, t("home.popular")),
    ),
  );
  return infiniteList(root, (cursor) => get("/api/v1/videos", { query: { sort, cursor, limit: 24 } }), t("list.empty"));
};

export const search: PageFn = (root, _params, url) => {
  const q = (url.searchParams.get("q") ?? "").trim();
  if (!q) return;
  root.append(h("h1.page-title", {}, t("search.results", { q })));
  return infiniteList(root, (cursor) => get("/api/v1/search", { query: { q, cursor } }), t("search.none", { q }));
};

export const channel: PageFn = async (root, [handle]) => {
  let c: Channel;
  try {
    c = await get("/api/v1/channels/{handle}", { path: { handle } });
  } catch {
    root.append(h("p.notice", {}, t("video.notfound")));
    return;
  }
  root.append(
    h("header.channel-head", {}, h("div.avatar", {}, c.display_name.slice(0, 1).toUpperCase()), h("div", {}, h("h1", {}, c.display_name), h("div.muted", {}, `@${c.handle}`))),
    c.description ? h("p.channel-desc", {}, c.description) : "",
    h("h2", {}, t("channel.videos")),
  );
  return infiniteList(root, (cursor) => get("/api/v1/channels/{handle}/videos", { path: { handle }, query: { cursor } }), t("list.empty"));
};
