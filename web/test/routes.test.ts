// routes.json: the one table of the UI's pages, read by the server (the paths it answers with
// index.html) and by the client's router.
import { describe, expect, it } from "vitest";
import { pages } from "../src/pages";
import { match, pathPattern, routeTable, type RouteEntry } from "../src/router";
import routes from "../src/routes.json";

describe("routes.json", () => {
  it("is an array of objects with a string path and page, nothing else", () => {
    expect(Array.isArray(routes)).toBe(true);
    for (const entry of routes) {
      expect(Object.keys(entry).sort()).toEqual(["page", "path"]);
      expect(typeof entry.path).toBe("string");
      expect(typeof entry.page).toBe("string");
    }
    const paths = routes.map((r) => r.path);
    expect(new Set(paths).size).toBe(paths.length);
  });

  it("has a page function for every entry, and an entry for every page", () => {
    for (const { page } of routes) expect(pages[page], page).toBeTypeOf("function");
    expect(Object.keys(pages).sort()).toEqual([...new Set(routes.map((r) => r.page))].sort());
    expect(() => routeTable(routes, pages)).not.toThrow();
  });

  it("matches the paths the server answers with the UI", () => {
    const table = routeTable(routes, pages);
    const page = (path: string) => {
      const m = match(table, path);
      return m && { path: m.route.path, params: m.params };
    };
    expect(page("/")).toEqual({ path: "/", params: [] });
    expect(page("/watch/abc")).toEqual({ path: "/watch/{id}", params: ["abc"] });
    expect(page("/c/%D0%B0%D0%BB%D0%B8%D1%81%D0%B0")).toEqual({ path: "/c/{handle}", params: ["алиса"] });
    expect(page("/upload")).toEqual({ path: "/upload", params: [] });
    expect(page("/c/my.channel-1")).toEqual({ path: "/c/{handle}", params: ["my.channel-1"] });
    for (const p of ["/feed", "/channels", "/liked", "/notifications"]) expect(page(p)).toEqual({ path: p, params: [] });
    // One whole segment, nothing more or less.
    expect(page("/watch/")).toBeNull();
    expect(page("/watch")).toBeNull();
    expect(page("/watch/a/b")).toBeNull();
    expect(page("/upload/")).toBeNull();
    expect(page("/uploads")).toBeNull();
    expect(page("/api/v1/videos")).toBeNull();
    // Not valid percent-encoding: no page rather than an exception.
    expect(page("/c/%E0%A4%A")).toBeNull();
  });
});

describe("route paths", () => {
  it("turn actix parameters into one-segment captures and keep the rest literal", () => {
    expect(pathPattern("/a/{x}/b/{y}").exec("/a/1/b/2")?.slice(1)).toEqual(["1", "2"]);
    expect(pathPattern("/a.b").test("/a.b")).toBe(true);
    expect(pathPattern("/a.b").test("/axb")).toBe(false);
    expect(pathPattern("/v+(1)").test("/v+(1)")).toBe(true);
  });

  it("refuse what the table's format does not have", () => {
    expect(() => pathPattern("watch")).toThrow(/starts with/);
    expect(() => pathPattern("/watch/{id:\\d+}")).toThrow(/only \{name\}/);
    expect(() => pathPattern("/files/{tail}*")).toThrow(/only \{name\}/);
    const entries: RouteEntry[] = [{ path: "/x", page: "nope" }];
    expect(() => routeTable(entries, pages)).toThrow(/no page "nope"/);
    expect(() => routeTable([{ path: "/x", page: "toString" }], pages)).toThrow(/no page/);
  });
});
