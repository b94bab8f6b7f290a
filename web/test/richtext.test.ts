// @vitest-environment happy-dom
// User text as text: links only for http(s) addresses, times as seek buttons, and markup,
// script addresses and entities left as the characters they are.
import { describe, expect, it, vi } from "vitest";
import { richText, safeHref, segments, UGC_REL } from "../src/richtext";

/** The nodes of `text` in a fresh element. */
function shown(text: string, seek?: (s: number) => void, duration?: number): HTMLElement {
  const el = document.createElement("div");
  el.append(...richText(text, { seek, duration }));
  return el;
}

describe("segments", () => {
  it("leave plain text alone", () => {
    expect(segments("просто текст")).toEqual([{ kind: "text", text: "просто текст" }]);
    expect(segments("")).toEqual([]);
  });

  it("find http(s) addresses, without the punctuation that ends the sentence", () => {
    expect(segments("see https://example.org/a?b=1&c=2#x, then")).toEqual([
      { kind: "text", text: "see " },
      { kind: "link", text: "https://example.org/a?b=1&c=2#x", href: "https://example.org/a?b=1&c=2#x" },
      { kind: "text", text: ", then" },
    ]);
    expect(segments("(http://example.org/wiki/A_(b))."))
      .toEqual([
        { kind: "text", text: "(" },
        { kind: "link", text: "http://example.org/wiki/A_(b)", href: "http://example.org/wiki/A_(b)" },
        { kind: "text", text: ")." },
      ]);
    expect(segments("HTTPS://Example.ORG")[0]).toEqual({ kind: "link", text: "HTTPS://Example.ORG", href: "https://example.org/" });
    expect(segments("«https://пример.рф/путь»")[1]).toMatchObject({ kind: "link", text: "https://пример.рф/путь" });
  });

  it("never make a link of another scheme, a hostless address or one inside a word", () => {
    for (const text of ["javascript:alert(1)", "JaVaScRiPt:alert(document.cookie)", "data:text/html,<script>alert(1)</script>", "vbscript:msgbox", "ftp://example.org", "http://", "https:///x"]) {
      expect(segments(text).every((s) => s.kind === "text"), text).toBe(true);
    }
    expect(segments("xhttp://example.org").every((s) => s.kind === "text")).toBe(true);
    // A script address that carries an http one: only the http part is a link, to itself.
    const s = segments("javascript:window.location='http://evil.example/'");
    expect(s.filter((x) => x.kind === "link")).toEqual([{ kind: "link", text: "http://evil.example/", href: "http://evil.example/" }]);
  });

  it("stop an address at quotes and angle brackets, so nothing rides into the link", () => {
    const s = segments('https://example.org/"onmouseover="alert(1)');
    expect(s[0]).toEqual({ kind: "link", text: "https://example.org/", href: "https://example.org/" });
    expect(s[1]).toEqual({ kind: "text", text: '"onmouseover="alert(1)' });
    expect(segments("<a href=https://example.org/>x</a>")[1]).toMatchObject({ kind: "link", text: "https://example.org/" });
  });

  it("find times of m:ss and h:mm:ss", () => {
    expect(segments("at 1:23 and 1:02:03, or 0:05")).toEqual([
      { kind: "text", text: "at " },
      { kind: "time", text: "1:23", secs: 83 },
      { kind: "text", text: " and " },
      { kind: "time", text: "1:02:03", secs: 3723 },
      { kind: "text", text: ", or " },
      { kind: "time", text: "0:05", secs: 5 },
    ]);
    expect(segments("12:34.")[0]).toEqual({ kind: "time", text: "12:34", secs: 754 });
  });

  it("leave what only looks like a time", () => {
    for (const text of ["1:75", "1:2:03", "1:60:00", "10:30am", "a1:23", "1:23:45:67", "3.1:20", "1:23.5", "v1:00", "https://example.org/t=1:23"]) {
      expect(segments(text).some((s) => s.kind === "time"), text).toBe(false);
    }
  });

  it("leave times past the video's end", () => {
    expect(segments("0:04 and 0:07", 5).map((s) => s.kind)).toEqual(["time", "text"]);
  });
});

describe("safeHref", () => {
  it("takes http and https with a host, normalised", () => {
    expect(safeHref("https://example.org")).toBe("https://example.org/");
    expect(safeHref("http://example.org/a b")).toBe("http://example.org/a%20b");
    expect(safeHref('https://example.org/"><script>')).toBe("https://example.org/%22%3E%3Cscript%3E");
  });

  it("refuses everything else", () => {
    for (const url of ["javascript:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)", "data:text/html,x", "//example.org", "/local", "mailto:a@b.c", "http://", "not a url"]) {
      expect(safeHref(url), url).toBeNull();
    }
  });
});

describe("richText", () => {
  it("shows markup, entities and event handlers as the characters they are", () => {
    const payloads = [
      "<script>window.__xss = 1</script>",
      '<img src=x onerror="window.__xss=1">',
      '" onmouseover="window.__xss=1" x="',
      "&lt;b&gt;bold&lt;/b&gt; &amp;amp; &#60;i&#62;",
      "javascript:alert(1)",
      "<a href=\"javascript:alert(1)\">click</a>",
    ];
    for (const text of payloads) {
      const el = shown(text);
      expect(el.textContent, text).toBe(text);
      expect(el.querySelectorAll("*").length, text).toBe(0);
    }
    const el = shown("<script>alert(1)</script>");
    expect(el.innerHTML).toBe("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(shown("&lt;b&gt;").innerHTML).toBe("&amp;lt;b&amp;gt;");
  });

  it("makes links that open apart, with no referrer and no ranking credit", () => {
    const el = shown('go to https://example.org/x?a=<b>"c" now');
    const links = el.querySelectorAll("a");
    expect(links).toHaveLength(1);
    expect(links[0].getAttribute("href")).toBe("https://example.org/x?a=");
    expect(links[0].getAttribute("rel")).toBe(UGC_REL);
    expect(UGC_REL.split(" ").sort()).toEqual(["noopener", "noreferrer", "nofollow", "ugc"].sort());
    expect(links[0].getAttribute("target")).toBe("_blank");
    expect(links[0].textContent).toBe("https://example.org/x?a=");
    expect(el.textContent).toBe('go to https://example.org/x?a=<b>"c" now');
    expect(el.querySelectorAll("b")).toHaveLength(0);
  });

  it("makes times into buttons that seek, when there is a player", () => {
    const seek = vi.fn();
    const el = shown("best part 1:02:03 <b>0:07</b>", seek, 4000);
    const buttons = el.querySelectorAll("button");
    expect([...buttons].map((b) => b.textContent)).toEqual(["1:02:03", "0:07"]);
    buttons[0].click();
    buttons[1].click();
    expect(seek.mock.calls).toEqual([[3723], [7]]);
    expect(el.textContent).toBe("best part 1:02:03 <b>0:07</b>");
    // Without a player, or past the end, times are text.
    expect(shown("1:23").querySelectorAll("button")).toHaveLength(0);
    expect(shown("1:23", seek, 60).querySelectorAll("button")).toHaveLength(0);
  });
});
