// The Kadr web UI: header (search, navigation, language, account) and the page router.
import "./style.css";
import { currentUser, isAdmin, isModerator, logout } from "./api";
import { debounce, h } from "./dom";
import { initLang, lang, setLang, t, type Lang } from "./i18n";
import { bell, refreshUnread } from "./notify";
import { pages } from "./pages";
import { navigate, onNavigate, refresh, routeTable, startRouter } from "./router";
import routes from "./routes.json";

async function header(top: HTMLElement): Promise<void> {
  const user = await currentUser();
  const q = new URL(location.href).searchParams.get("q") ?? "";
  const box = h("input.search", { type: "search", name: "q", value: location.pathname === "/search" ? q : "", placeholder: t("search.placeholder"), "aria-label": t("search.placeholder"), autocomplete: "off", dataset: { testid: "search" } });
  // Results follow typing: the search page is replaced (not pushed) while the words change.
  const go = debounce((value: string) => {
    const words = value.trim();
    if (!words) return;
    const to = `/search?q=${encodeURIComponent(words)}`;
    navigate(to, location.pathname === "/search");
  }, 300);
  box.addEventListener("input", () => go(box.value));
  const form = h("form.search-form", { role: "search", onsubmit: (e: Event) => (e.preventDefault(), go(box.value)) }, box);
  const langs = h(
    "select.lang",
    { "aria-label": "Language", dataset: { testid: "lang" } },
    ...(["ru", "en"] as Lang[]).map((l) => h("option", { value: l, selected: l === lang() }, l === "ru" ? "Русский" : "English")),
  );
  langs.addEventListener("change", () => {
    setLang(langs.value as Lang);
    void header(top);
    refresh();
  });
  const out = h("button.link", { type: "button", dataset: { testid: "logout" } }, t("nav.logout"));
  const signOut = async () => {
    // Signed out here even when the server could not be told: the token is forgotten.
    await logout().catch(() => {});
    await header(top);
    navigate("/");
  };
  out.addEventListener("click", () => void signOut());
  top.replaceChildren(
    h(
      "div.bar",
      {},
      h("a.logo", { href: "/" }, h("span.logo-mark", {}, "▶"), t("app.name")),
      form,
      h(
        "nav.nav",
        {},
        h("a", { href: "/" }, t("nav.home")),
        h("a", { href: "/shorts" }, t("nav.shorts")),
        h("a", { href: "/upload" }, t("nav.upload")),
        user ? h("a", { href: "/me" }, t("nav.mine")) : null,
        user ? h("a", { href: "/channels", dataset: { testid: "nav-channels" } }, t("nav.channels")) : null,
        user ? h("a", { href: "/liked", dataset: { testid: "nav-liked" } }, t("nav.liked")) : null,
        user ? h("a", { href: "/playlists", dataset: { testid: "nav-playlists" } }, t("nav.playlists")) : null,
        user ? h("a", { href: "/history", dataset: { testid: "nav-history" } }, t("nav.history")) : null,
        isModerator(user) ? h("a", { href: "/moderation", dataset: { testid: "nav-moderation" } }, t("nav.moderation")) : null,
        isAdmin(user) ? h("a", { href: "/admin/users", dataset: { testid: "nav-admin" } }, t("nav.admin")) : null,
        user ? h("a.user", { href: "/settings", title: t("nav.settings"), dataset: { testid: "user" } }, user.username) : null,
        user ? out : h("a", { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, t("nav.login")),
        langs,
      ),
      // Outside the navigation, which scrolls sideways on a phone: always in sight.
      user ? bell() : null,
    ),
  );
}

initLang();
const top = document.getElementById("top")!;
// Full-height pages (shorts) fit under the header, whatever its height on this screen.
new ResizeObserver(() => {
  document.documentElement.style.setProperty("--header-height", `${top.offsetHeight}px`);
}).observe(top);
const main = document.getElementById("main")!;
let lastUser: string | null | undefined;
// The header changes when the account does (sign in, sign out).
const followAccount = async () => {
  const user = (await currentUser())?.id ?? null;
  if (user !== lastUser) {
    lastUser = user;
    await header(top);
  }
};
onNavigate(() => {
  void followAccount();
  void refreshUnread();
});
startRouter(routeTable(routes, pages), main, (root) => {
  root.append(h("p.notice", {}, t("video.notfound")));
});
