// Sharing: `?t=` in its forms, the watch and embed addresses, the embed code (escaped), and
// the dialog that offers them.
// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { embedCode, embedUrl, escapeAttr, parseStart, shareDialog, watchUrl } from "../src/share";

describe("parseStart", () => {
  it("reads seconds, units and clocks", () => {
    expect(parseStart("90")).toBe(90);
    expect(parseStart("90s")).toBe(90);
    expect(parseStart("12.5")).toBe(12.5);
    expect(parseStart("1m30s")).toBe(90);
    expect(parseStart("1M30S")).toBe(90);
    expect(parseStart("1h")).toBe(3600);
    expect(parseStart("1h2m3s")).toBe(3723);
    expect(parseStart("2m")).toBe(120);
    expect(parseStart("1:30")).toBe(90);
    expect(parseStart("1:02:03")).toBe(3723);
    expect(parseStart(" 0 ")).toBe(0);
  });

  it("refuses the rest", () => {
    for (const bad of [null, undefined, "", "abc", "-5", "1m30", "30s1m", "1:75", "1::2", "h", "1e3", "Infinity", "999999999"]) {
      expect(parseStart(bad), String(bad)).toBeNull();
    }
  });
});

describe("addresses", () => {
  it("of the watch page, at a time in whole seconds", () => {
    expect(watchUrl("https://kadr.example", "abc")).toBe("https://kadr.example/watch/abc");
    expect(watchUrl("https://kadr.example", "abc", 123.7)).toBe("https://kadr.example/watch/abc?t=123");
    expect(watchUrl("https://kadr.example", "abc", 0.4)).toBe("https://kadr.example/watch/abc");
  });

  it("of the embed with its options", () => {
    expect(embedUrl("https://k.example", "v1")).toBe("https://k.example/embed/v1");
    expect(embedUrl("https://k.example", "v1", { start: 61, autoplay: true, loop: true, list: "p1" })).toBe(
      "https://k.example/embed/v1?t=61&autoplay=1&loop=1&list=p1",
    );
  });

  it("in the embed code, with YouTube's size and permissions, the title escaped", () => {
    expect(embedCode("https://k.example", "v1", `Tom & "Jerry" <b>`, { start: 5, autoplay: true })).toBe(
      `<iframe width="560" height="315" src="https://k.example/embed/v1?t=5&amp;autoplay=1" title="Tom &amp; &quot;Jerry&quot; &lt;b&gt;" ` +
        `frameborder="0" allow="autoplay; encrypted-media; picture-in-picture; fullscreen" allowfullscreen></iframe>`,
    );
    expect(escapeAttr(`'"`)).toBe("&#39;&quot;");
  });
});

describe("the share dialog", () => {
  afterEach(() => document.body.replaceChildren());
  const open = () => {
    // happy-dom's <dialog> lacks showModal in some versions.
    if (!("showModal" in HTMLDialogElement.prototype)) {
      Object.defineProperty(HTMLDialogElement.prototype, "showModal", {
        value(this: HTMLDialogElement) {
          this.open = true;
        },
      });
    }
    shareDialog({ id: "v1", title: "Кролик" }, 83.4, "https://k.example");
    const q = <T extends Element>(id: string) => document.querySelector<T>(`[data-testid=${id}]`)!;
    return { q };
  };

  it("offers the link, at the current time when asked", () => {
    const { q } = open();
    const link = q<HTMLInputElement>("share-link");
    expect(link.value).toBe("https://k.example/watch/v1");
    expect(q<HTMLInputElement>("share-start-time").value).toBe("1:23");
    const at = q<HTMLInputElement>("share-at");
    at.checked = true;
    at.dispatchEvent(new Event("change"));
    expect(link.value).toBe("https://k.example/watch/v1?t=83");
    const time = q<HTMLInputElement>("share-start-time");
    time.value = "2m";
    time.dispatchEvent(new Event("input"));
    expect(link.value).toBe("https://k.example/watch/v1?t=120");
  });

  it("offers the embed code with its options", () => {
    const { q } = open();
    const code = q<HTMLTextAreaElement>("share-embed");
    expect(code.value).toContain(`src="https://k.example/embed/v1"`);
    expect(code.value).toContain(`title="Кролик"`);
    for (const id of ["share-embed-autoplay", "share-embed-loop", "share-embed-at"]) {
      const box = q<HTMLInputElement>(id);
      box.checked = true;
      box.dispatchEvent(new Event("change"));
    }
    expect(code.value).toContain(`src="https://k.example/embed/v1?t=83&amp;autoplay=1&amp;loop=1"`);
  });
});
