// Downloads without a server: how the menu names each file in the three languages, its order,
// its links and keys.
// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import type { Download } from "../src/api";
import { downloadLabel, downloadMenu, sortDownloads } from "../src/downloads";
import { setLang } from "../src/i18n";

// Intl puts no-break spaces where a line must not break, and Arabic strings isolate what they
// insert (FSI…PDI) so that Latin text and digits keep their order: compare words.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ").replace(/[\u2066-\u2069]/g, "");

const mp4: Download = { kind: "mp4", url: "/media/v/downloads/video.mp4?token=a.downloads.b", size_bytes: 48 * 1024 * 1024 + 300_000, width: 1280, height: 720 };
const m4a: Download = { kind: "m4a", url: "/media/v/downloads/audio.m4a", size_bytes: 5 * 1024 * 1024 + 200 * 1024 };

afterEach(() => {
  setLang("en");
  document.body.replaceChildren();
});

describe("download labels", () => {
  it("say the kind, the picture's size and the file's size in each language", () => {
    expect(downloadLabel(mp4, "en")).toBe("Video (MP4, 720p, 48 MB)");
    expect(downloadLabel(m4a, "en")).toBe("Audio only (M4A, 5.2 MB)");
    expect(plain(downloadLabel(mp4, "ru"))).toBe("Видео (MP4, 720p, 48 МБ)");
    expect(plain(downloadLabel(m4a, "ru"))).toBe("Только звук (M4A, 5,2 МБ)");
    expect(plain(downloadLabel(mp4, "ar"))).toBe("فيديو (MP4، 720p، 48 ميغابايت)");
    expect(plain(downloadLabel(m4a, "ar"))).toBe("الصوت فقط (M4A، 5.2 ميغابايت)");
    expect(downloadLabel(m4a, "ar")).toContain("\u20685.2 ميغابايت\u2069");
  });

  it("name a vertical video by its short side, and one of unknown size without it", () => {
    expect(downloadLabel({ ...mp4, width: 720, height: 1280 }, "en")).toBe("Video (MP4, 720p, 48 MB)");
    expect(downloadLabel({ ...mp4, width: null, height: null }, "en")).toBe("Video (MP4, 48 MB)");
  });

  it("list the video before the sound", () => {
    expect(sortDownloads([m4a, mp4]).map((d) => d.kind)).toEqual(["mp4", "m4a"]);
  });
});

describe("download menu", () => {
  it("is absent when nothing may be downloaded", () => {
    expect(downloadMenu([])).toBeNull();
  });

  it("offers each file as a download link to the API's URL, named for screen readers", () => {
    const menu = downloadMenu([m4a, mp4])!;
    document.body.append(menu);
    const links = [...menu.querySelectorAll<HTMLAnchorElement>("a.menu-item")];
    expect(links.map((a) => a.getAttribute("href"))).toEqual([mp4.url, m4a.url]);
    expect(links.every((a) => a.hasAttribute("download") && a.getAttribute("role") === "menuitem")).toBe(true);
    expect(links.map((a) => a.textContent)).toEqual(["Video (MP4, 720p, 48 MB)", "Audio only (M4A, 5.2 MB)"]);
    expect(menu.querySelector("summary")!.textContent).toBe("Download");
    expect(menu.querySelector("[role=menu]")!.getAttribute("aria-label")).toBe("Download the video");
  });

  it("moves between its links with the arrow keys, Home and End, and closes on Escape", () => {
    const menu = downloadMenu([mp4, m4a])!;
    document.body.append(menu);
    const [video, sound] = [...menu.querySelectorAll<HTMLAnchorElement>("a.menu-item")];
    menu.open = true;
    video.focus();
    const key = (k: string) => (document.activeElement ?? document.body).dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));
    key("ArrowDown");
    expect(document.activeElement).toBe(sound);
    key("ArrowDown");
    expect(document.activeElement).toBe(video);
    key("End");
    expect(document.activeElement).toBe(sound);
    key("Home");
    expect(document.activeElement).toBe(video);
    key("ArrowUp");
    expect(document.activeElement).toBe(sound);
    key("Escape");
    expect(menu.open).toBe(false);
    expect(document.activeElement).toBe(menu.querySelector("summary"));
  });

  it("speaks the interface's language", () => {
    setLang("ar");
    const menu = downloadMenu([mp4])!;
    expect(menu.querySelector("summary")!.textContent).toBe("تنزيل");
    expect(plain(menu.querySelector("a")!.textContent)).toBe("فيديو (MP4، 720p، 48 ميغابايت)");
  });
});
