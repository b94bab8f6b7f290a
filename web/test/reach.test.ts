// The owner's side of reach, what can be checked without a server: stills' addresses (signed
// like the poster), caption files' types and language tags, the embedding choice and what it
// sends, the chapter list's pictures and the share dialog's picture at the shared time.
// @vitest-environment happy-dom
import { afterEach, describe, expect, it, vi } from "vitest";
import { CAPTION_LANGUAGES, captionProblem, captionType, languageTag, ownName } from "../src/captions";
import { ApiError } from "../src/api";
import { chapterList, normalizeChapters } from "../src/chapters";
import { setLang } from "../src/i18n";
import { embedChoice, embedOrigins } from "../src/pages/edit";
import { shareDialog } from "../src/share";
import { imageToken, stillsOf, stillUrl } from "../src/stills";

describe("stills", () => {
  it("ask for whole seconds at a width, signed with the poster's token when it has one", () => {
    expect(stillUrl("v1", 12.6, 160)).toBe("/media/v1/thumbnail.jpg?t=13&w=160");
    expect(stillUrl("v1", -3, 320, "abc.images.sig")).toBe("/media/v1/thumbnail.jpg?t=0&w=320&token=abc.images.sig");
    expect(imageToken("/media/v1/images/poster.jpg?token=1700000000.images.AbC_-")).toBe("1700000000.images.AbC_-");
    expect(imageToken("https://cdn.example/media/v1/images/poster.jpg")).toBeNull();
    expect(imageToken(null)).toBeNull();
    const at = stillsOf("v 2", "/media/v%202/images/poster.jpg?token=t1");
    expect(at(10, 160)).toBe("/media/v%202/thumbnail.jpg?t=10&w=160&token=t1");
  });
});

describe("caption files", () => {
  it("are sent under the type their extension, else their first line, says", () => {
    expect(captionType("film.ru.srt")).toBe("application/x-subrip");
    expect(captionType("FILM.VTT")).toBe("text/vtt");
    expect(captionType("subs.txt", "\uFEFFWEBVTT\n")).toBe("text/vtt");
    expect(captionType("subs", "1\n00:00:01,000 --> ")).toBe("application/x-subrip");
  });

  it("take BCP 47 tags in their canonical form and refuse anything else", () => {
    expect(languageTag(" pt-br ")).toBe("pt-BR");
    expect(languageTag("sr-latn")).toBe("sr-Latn");
    expect(languageTag("ru")).toBe("ru");
    for (const bad of ["", "not a tag", "r", "ru_RU", "x--y", "<b>"]) expect(languageTag(bad), bad).toBeNull();
  });

  it("offer the common languages first, each in its own name", () => {
    expect(CAPTION_LANGUAGES.slice(0, 3)).toEqual(["ru", "en", "ar"]);
    for (const tag of ["uk", "kk", "uz", "tt", "de", "fr", "es", "tr", "zh"]) expect(CAPTION_LANGUAGES).toContain(tag);
    expect(new Set(CAPTION_LANGUAGES).size).toBe(CAPTION_LANGUAGES.length);
    expect(ownName("ru")).toBe("Русский");
    expect(ownName("de")).toBe("Deutsch");
    expect(ownName("ar")).toBe("العربية");
    expect(ownName("qqq")).toBe("qqq");
  });

  it("say what the server refused in the owner's words, the line at fault as it named it", () => {
    setLang("en");
    expect(captionProblem(new ApiError(400, "invalid_captions", "line 6: a cue must end after it starts"))).toBe(
      "The file was not accepted: line 6: a cue must end after it starts",
    );
    expect(captionProblem(new ApiError(409, "too_many_captions", "x"))).toMatch(/20 languages/);
    expect(captionProblem(new ApiError(413, "body_too_large", "x"))).toMatch(/2 MiB/);
    setLang("ru");
    expect(captionProblem(new ApiError(400, "invalid_captions", "line 2: x"))).toBe("Файл не принят: line 2: x");
    setLang("en");
  });
});

describe("embedding", () => {
  it("reads the video's rule as the form's choice", () => {
    expect(embedChoice(["*"])).toEqual({ choice: "anywhere", sites: [] });
    expect(embedChoice(undefined)).toEqual({ choice: "anywhere", sites: [] });
    expect(embedChoice([])).toEqual({ choice: "nowhere", sites: [] });
    expect(embedChoice(["https://a.example", "https://b.example"])).toEqual({ choice: "some", sites: ["https://a.example", "https://b.example"] });
  });

  it("sends the site's rule, nowhere, or the sites one per line", () => {
    expect(embedOrigins("anywhere", "https://a.example")).toEqual(["*"]);
    expect(embedOrigins("nowhere", "https://a.example")).toEqual([]);
    expect(embedOrigins("some", " https://a.example\n\nhttps://b.example:8443 \nhttps://a.example\n")).toEqual(["https://a.example", "https://b.example:8443"]);
  });
});

describe("pictures", () => {
  afterEach(() => {
    document.body.replaceChildren();
    vi.useRealTimers();
  });

  it("one per chapter, lazily, once the list knows where they are; the button named by its time and title alone", () => {
    setLang("en");
    const list = chapterList(normalizeChapters([{ start: 0, title: "Intro" }, { start: 65, title: "Main" }], 120), () => {});
    document.body.append(list.el);
    expect(list.el.querySelectorAll("img")).toHaveLength(0);
    list.stills((secs) => `/still/${secs}`);
    const imgs = [...list.el.querySelectorAll("img")];
    expect(imgs.map((i) => [i.getAttribute("src"), i.getAttribute("loading"), i.getAttribute("alt")])).toEqual([
      ["/still/0", "lazy", ""],
      ["/still/65", "lazy", ""],
    ]);
    expect(list.el.querySelectorAll("button")[1].textContent).toBe("1:05Main");
  });

  it("the share dialog's, at the shared time while \"start at\" is ticked", () => {
    vi.useFakeTimers();
    setLang("en");
    if (!("showModal" in HTMLDialogElement.prototype)) {
      Object.defineProperty(HTMLDialogElement.prototype, "showModal", {
        value(this: HTMLDialogElement) {
          this.open = true;
        },
      });
    }
    shareDialog({ id: "v1", title: "Кролик" }, 83.4, "https://k.example", (secs) => `/still/${secs}`);
    const q = <T extends Element>(id: string) => document.querySelector<T>(`[data-testid=${id}]`)!;
    const still = q<HTMLImageElement>("share-still");
    expect(still.hidden).toBe(true);
    const at = q<HTMLInputElement>("share-at");
    at.checked = true;
    at.dispatchEvent(new Event("change"));
    expect(still.hidden).toBe(false);
    vi.advanceTimersByTime(300);
    expect(still.getAttribute("src")).toBe("/still/83");
    expect(still.alt).toBe("Picture at 1:23");
    const time = q<HTMLInputElement>("share-start-time");
    time.value = "2m";
    time.dispatchEvent(new Event("input"));
    vi.advanceTimersByTime(300);
    expect(still.getAttribute("src")).toBe("/still/120");
    at.checked = false;
    at.dispatchEvent(new Event("change"));
    expect(still.hidden).toBe(true);
  });
});
