// The Kadr web UI: header (search, navigation, language, account) and the page router.
import "./style.css";
import { currentUser, isAdmin, isModerator, logout } from "./api";
import { debounce, h } from "./dom";
import { initLang, isLang, LANG_NAMES, LANGS, lang, onLangChange, t } from "./i18n";
import { bell, refreshUnread } from "./notify";
import { pages } from "./pages";
import { adoptAccountLanguages, switchLanguage } from "./prefs";
import { closesItself } from "./safety";
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
  // Each language in its own name and marked as such, so that a screen reader says it right.
  const langs = h(
    "select.lang",
    { "aria-label": t("lang.label"), dataset: { testid: "lang" } },
    ...LANGS.map((l) => h("option", { value: l, lang: l, selected: l === lang() }, LANG_NAMES[l])),
  );
  // The header and the page redraw themselves on the change (onLangChange below); the
  // account keeps it when signed in.
  langs.addEventListener("change", () => {
    if (isLang(langs.value)) switchLanguage(langs.value);
  });
  const out = h("button.link", { type: "button", dataset: { testid: "logout" } }, t("nav.logout"));
  const signOut = async () => {
    // Signed out here even when the server could not be told: the token is forgotten.
    await logout().catch(() => {});
    await header(top);
    navigate("/");
  };
  out.addEventListener("click", () => void signOut());
  // My own pages are in the account's menu (beside the bell, outside the navigation, which
  // scrolls sideways on a phone and would clip it).
  const account = user
    ? h(
        "details.menu.account-menu",
        { dataset: { testid: "account-menu" } },
        h("summary.account-button", { title: t("nav.account") }, h("span", { dataset: { testid: "user" } }, user.username)),
        h(
          "div.menu-list",
          { role: "menu" },
          h("a.menu-item", { href: "/me", role: "menuitem" }, t("nav.mine")),
          h("a.menu-item", { href: "/import", role: "menuitem", dataset: { testid: "nav-import" } }, t("nav.import")),
          h("a.menu-item", { href: "/channels", role: "menuitem", dataset: { testid: "nav-channels" } }, t("nav.channels")),
          h("a.menu-item", { href: "/playlists", role: "menuitem", dataset: { testid: "nav-playlists" } }, t("nav.playlists")),
          h("a.menu-item", { href: "/liked", role: "menuitem", dataset: { testid: "nav-liked" } }, t("nav.liked")),
          h("a.menu-item", { href: "/history", role: "menuitem", dataset: { testid: "nav-history" } }, t("nav.history")),
          h("a.menu-item", { href: "/settings", role: "menuitem", dataset: { testid: "nav-settings" } }, t("nav.settings")),
          out,
        ),
      )
    : null;
  if (account) {
    // A choice closes it, and so do a click elsewhere and Escape.
    account.addEventListener("click", (e) => {
      if ((e.target as Element).closest(".menu-item")) account.open = false;
    });
    closesItself(account);
  }
  out.classList.add("menu-item");
  out.setAttribute("role", "menuitem");
  skip.textContent = t("a11y.skip");
  document.title = t("app.name");
  top.replaceChildren(
    h(
      "div.bar",
      {},
      h("a.logo", { href: "/", dir: "ltr" }, h("span.logo-mark", { "aria-hidden": "true" }, "▶"), t("app.name")),
      form,
      h(
        "nav.nav",
        { "aria-label": t("nav.label") },
        h("a", { href: "/" }, t("nav.home")),
        h("a", { href: "/shorts" }, t("nav.shorts")),
        h("a", { href: "/upload" }, t("nav.upload")),
        user ? h("a", { href: "/playlists" }, t("nav.playlists")) : null,
        isModerator(user) ? h("a", { href: "/moderation", dataset: { testid: "nav-moderation" } }, t("nav.moderation")) : null,
        isAdmin(user) ? h("a", { href: "/admin/users", dataset: { testid: "nav-admin" } }, t("nav.admin")) : null,
        user ? null : h("a", { href: `/login?next=${encodeURIComponent(location.pathname + location.search)}` }, t("nav.login")),
        langs,
      ),
      // Outside the navigation, which scrolls sideways on a phone: always in sight.
      user ? bell() : null,
      account,
    ),
  );
}

initLang();
const top = document.getElementById("top")!;
const main = document.getElementById("main")!;
// The first stop of the keyboard: past the header's links, straight to the page. (Its own
// handler: the router would take the click for a navigation.)
const skip = h("a.skip-link", { href: "#main" }, t("a11y.skip"));
skip.addEventListener("click", (e) => {
  e.preventDefault();
  e.stopPropagation();
  main.focus();
});
document.body.prepend(skip);
// Full-height pages (shorts) fit under the header, whatever its height on this screen.
new ResizeObserver(() => {
  document.documentElement.style.setProperty("--header-height", `${top.offsetHeight}px`);
}).observe(top);
let lastUser: string | null | undefined;
// The header changes when the account does (sign in, sign out).
const followAccount = async () => {
  const user = (await currentUser())?.id ?? null;
  if (user !== lastUser) {
    lastUser = user;
    await header(top);
    // Signed in: the account's languages come with it.
    if (user) await adoptAccountLanguages();
  }
};
// From the header's switch or the settings page: everything in the new language at once.
onLangChange(() => {
  void header(top);
  refresh();
});
onNavigate(() => {
  void followAccount();
  void refreshUnread();
});
// Signed in already: the first page is drawn in the account's language.
void adoptAccountLanguages().finally(() => {
  startRouter(routeTable(routes, pages), main, (root) => {
    root.append(h("p.notice", {}, t("video.notfound")));
  });
});
