// History-API routing: each page renders into the main element and may return a cleanup.

export type Cleanup = (() => void) | void;
export type PageFn = (root: HTMLElement, params: string[], url: URL) => Cleanup | Promise<Cleanup>;

export interface Route {
  pattern: RegExp;
  page: PageFn;
}

/** The route for `path` and its captured parameters (decoded). */
export function match(routes: Route[], path: string): { route: Route; params: string[] } | null {
  for (const route of routes) {
    const m = route.pattern.exec(path);
    if (m) return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
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
