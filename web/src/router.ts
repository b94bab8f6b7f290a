// History-API routing: each page renders into the main element and may return a cleanup.
// The table is routes.json, which the server reads too (the paths it answers with the UI):
// paths in actix's syntax, where `{name}` is one non-empty segment without `/`.

export type Cleanup = (() => void) | void;
export type PageFn = (root: HTMLElement, params: string[], url: URL) => Cleanup | Promise<Cleanup>;

/** An entry of routes.json. */
export interface RouteEntry {
  path: string;
  page: string;
}

export interface Route {
  path: string;
  pattern: RegExp;
  page: PageFn;
}

/** The matcher of an actix path such as `/watch/{id}`: each `{name}` captures one segment. */
export function pathPattern(path: string): RegExp {
  if (!path.startsWith("/")) throw new Error(`route ${path}: a path starts with /`);
  const source = path
    .split(/(\{\w+\})/)
    .map((part, i) => {
      if (i % 2) return "([^/]+)";
      // Not actix's regex parameters ({id:\d+}) nor its tail matches ({tail}*).
      if (/[{}*]/.test(part)) throw new Error(`route ${path}: only {name} parameters are supported`);
      return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
    })
    .join("");
  return new RegExp(`^${source}$`);
}

/** The routes of `entries`, each shown by the function `pages` has under its `page`. */
export function routeTable(entries: readonly RouteEntry[], pages: Readonly<Record<string, PageFn>>): Route[] {
  return entries.map(({ path, page }) => {
    if (!Object.hasOwn(pages, page)) throw new Error(`route ${path}: no page "${page}"`);
    return { path, pattern: pathPattern(path), page: pages[page] };
  });
}

/** The route for `path` and its captured parameters (decoded); none for a parameter that is
 * not valid percent-encoding. */
export function match(routes: Route[], path: string): { route: Route; params: string[] } | null {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (!m) continue;
    try {
      return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
    } catch {
      return null;
    }
  }
  return null;
}

let routes: Route[] = [];
let root: HTMLElement;
let cleanup: Cleanup;
let generation = 0;
const listeners: ((url: URL) => void)[] = [];

export function onNavigate(fn: (url: URL) => void): void {
  listeners.push(fn);
}

export function startRouter(table: Route[], main: HTMLElement, notFound: PageFn): void {
  routes = table;
  root = main;
  const show = async () => {
    const gen = ++generation;
    if (typeof cleanup === "function") cleanup();
    cleanup = undefined;
    root.replaceChildren();
    const url = new URL(location.href);
    listeners.forEach((l) => l(url));
    const found = match(routes, url.pathname);
    const result = await (found ? found.route.page(root, found.params, url) : notFound(root, [], url));
    if (gen === generation) cleanup = result;
    else if (typeof result === "function") result();
  };
  addEventListener("popstate", () => void show());
  document.addEventListener("click", (e) => {
    const a = (e.target as Element | null)?.closest?.("a");
    if (!a || a.target || a.hasAttribute("download") || e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0) return;
    const url = new URL(a.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/api/") || url.pathname.startsWith("/media/")) return;
    e.preventDefault();
    navigate(url.pathname + url.search);
  });
  rerender = show;
  void show();
}

let rerender: () => Promise<void> = async () => {};

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  void rerender();
}

/** Renders the current page again (after signing in or a language switch). */
export function refresh(): void {
  void rerender();
}
