// The three dictionaries against each other: every key in every language, every plural form
// each language's rules can pick, the same placeholders; and the language the page starts in.
// @vitest-environment happy-dom
import { afterEach, describe, expect, it } from "vitest";
import { detectLang, dictionaries, dir, initLang, LANG_NAMES, LANGS, setLang, t, tCompact, type Key, type Lang } from "../src/i18n";

const keys = Object.keys(dictionaries.en) as Key[];
const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
const texts = (e: unknown): string[] => (typeof e === "string" ? [e] : Object.values(e as Record<string, string>));

describe("dictionaries", () => {
  it("have every key in every language", () => {
    for (const l of LANGS) {
      const missing = keys.filter((k) => dictionaries[l][k] === undefined);
      expect(missing, l).toEqual([]);
      expect(Object.keys(dictionaries[l]).filter((k) => !(k in dictionaries.en)), l).toEqual([]);
    }
  });

  it("give every plural form each language's Intl.PluralRules picks, and only those", () => {
    for (const l of LANGS) {
      const categories = [...new Intl.PluralRules(l).resolvedOptions().pluralCategories].sort();
      for (const k of keys) {
        const e = dictionaries[l][k];
        if (e === undefined || typeof e === "string") continue;
        expect(Object.keys(e).sort(), `${l} ${k}`).toEqual(categories);
      }
    }
    expect([...new Intl.PluralRules("ar").resolvedOptions().pluralCategories].sort()).toEqual(["few", "many", "one", "other", "two", "zero"]);
  });

  it("keep a count's plural forms in every language", () => {
    const plural = keys.filter((k) => typeof dictionaries.en[k] !== "string");
    expect(plural.length).toBeGreaterThan(10);
    for (const l of LANGS) for (const k of plural) expect(typeof dictionaries[l][k], `${l} ${k}`).toBe("object");
  });

  it("use the same placeholders as English (a form for one or two may say the number in words)", () => {
    for (const l of LANGS) {
      for (const k of keys) {
        const e = dictionaries[l][k];
        if (e === undefined) continue;
        const want = placeholders(texts(dictionaries.en[k])[0]).filter((p) => p !== "n");
        for (const s of texts(e)) expect(placeholders(s).filter((p) => p !== "n"), `${l} ${k}: ${s}`).toEqual(want);
      }
    }
  });

  it("differ from English in Russian and Arabic (nothing left untranslated by mistake)", () => {
    // Words that are the same in every language: brand names and the like.
    const same = new Set<Key>(["nav.shorts", "channel.shorts"]);
    for (const l of ["ru", "ar"] as Lang[]) {
      for (const k of keys) {
        if (same.has(k) || dictionaries[l][k] === undefined) continue;
        expect(JSON.stringify(dictionaries[l][k]), `${l} ${k}`).not.toBe(JSON.stringify(dictionaries.en[k]));
      }
    }
    for (const k of keys) {
      if (same.has(k) || dictionaries.ar[k] === undefined) continue;
      expect(texts(dictionaries.ar[k]).every((s) => /[\u0600-\u06ff]/.test(s)), k).toBe(true);
    }
  });
});

describe("Arabic plurals", () => {
  it("take the six forms", () => {
    expect(t("video.views", { n: 0 }, "ar")).toBe("لا مشاهدات");
    expect(t("video.views", { n: 1 }, "ar")).toBe("مشاهدة واحدة");
    expect(t("video.views", { n: 2 }, "ar")).toBe("مشاهدتان");
    expect(t("video.views", { n: 5 }, "ar")).toBe("5 مشاهدات");
    expect(t("video.views", { n: 11 }, "ar")).toBe("11 مشاهدة");
    expect(t("video.views", { n: 100 }, "ar")).toBe("100 مشاهدة");
    expect(t("video.views", { n: 1234 }, "ar")).toBe("1,234 مشاهدة");
    expect(t("channel.subscribers", { n: 3 }, "ar")).toBe("3 مشتركين");
    expect(t("channel.subscribers", { n: 25 }, "ar")).toBe("25 مشتركًا");
  });
});

describe("words put into sentences", () => {
  it("are isolated in Arabic, so a Latin or Cyrillic title keeps its punctuation", () => {
    expect(t("search.results", { q: "Hello!" }, "ar")).toBe("نتائج البحث عن «\u2068Hello!\u2069»");
    expect(t("search.results", { q: "Hello!" }, "en")).toBe("Results for “Hello!”");
    expect(t("search.results", { q: "Привет!" }, "ru")).toBe("Результаты по запросу «Привет!»");
    // Counts are not words: Western digits read the same either way.
    expect(t("mod.resolved", { action: "تحذير", n: 3 }, "ar")).toBe("\u2068تحذير\u2069: أُغلقت 3 بلاغات.");
  });
});

describe("short counts", () => {
  it("shorten from a thousand with the noun of a round number", () => {
    expect(tCompact("video.views", 532, {}, "en")).toBe("532 views");
    expect(tCompact("video.views", 1, {}, "en")).toBe("1 view");
    expect(tCompact("video.views", 1234, {}, "en")).toBe("1.2K views");
    expect(tCompact("video.views", 1001, {}, "ru")).toBe("1\u00a0тыс. просмотров");
    expect(tCompact("video.views", 1_500_000, {}, "ru")).toBe("1,5\u00a0млн просмотров");
    expect(tCompact("video.views", 21, {}, "ru")).toBe("21 просмотр");
    expect(tCompact("video.views", 1234, {}, "ar")).toBe("1.2\u00a0ألف مشاهدة");
    expect(tCompact("video.views", 3000, {}, "ar")).toMatch(/^3\s(ألف|آلاف) مشاهدة$/);
    expect(tCompact("video.views", 2, {}, "ar")).toBe("مشاهدتان");
  });
});

describe("the interface's language", () => {
  afterEach(() => localStorage.clear());

  it("follows the browser's first language it has", () => {
    expect(detectLang(["ar-EG", "en"])).toBe("ar");
    expect(detectLang(["ar-SA"])).toBe("ar");
    expect(detectLang(["AR"])).toBe("ar");
    expect(detectLang(["fr-FR", "ar-MA", "ru"])).toBe("ar");
    expect(detectLang(["de", "fr"])).toBe("en");
  });

  it("sets the page's lang and dir at once", () => {
    setLang("ar");
    expect(document.documentElement.lang).toBe("ar");
    expect(document.documentElement.dir).toBe("rtl");
    setLang("ru");
    expect(document.documentElement.dir).toBe("ltr");
    expect(document.documentElement.lang).toBe("ru");
    setLang("en");
    expect(document.documentElement.dir).toBe("ltr");
  });

  it("keeps the choice over the browser's", () => {
    localStorage.setItem("kadr.lang", "ar");
    expect(initLang()).toBe("ar");
    expect(document.documentElement.dir).toBe("rtl");
    localStorage.setItem("kadr.lang", "xx");
    expect(["en", "ru", "ar"]).toContain(initLang());
  });

  it("names each language in itself", () => {
    expect(LANG_NAMES).toEqual({ en: "English", ru: "Русский", ar: "العربية" });
    expect(dir("ar")).toBe("rtl");
    expect(dir("en")).toBe("ltr");
  });
});
