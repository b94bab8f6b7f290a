// Numbers, sizes, times left, ages and dates in each interface language, through Intl.
import { describe, expect, it } from "vitest";
import { dateTime, formatBytes, formatDate, formatDuration, formatEta, timeAgo } from "../src/format";
import { formatCompact, formatCount, languageName } from "../src/i18n";

const now = Date.parse("2026-11-23T12:00:00Z");
// Intl puts no-break and narrow no-break spaces where a line must not break: compare words.
const plain = (s: string) => s.replace(/[\u00a0\u202f]/g, " ");

describe("counts", () => {
  it("group digits the language's way; Arabic with Western digits", () => {
    expect(formatCount(1234567, "en")).toBe("1,234,567");
    expect(plain(formatCount(1234567, "ru"))).toBe("1 234 567");
    expect(formatCount(1234567, "ar")).toBe("1,234,567");
    expect(formatCount(1234567, "ar")).not.toMatch(/[\u0660-\u0669]/);
  });

  it("short from a thousand", () => {
    expect(formatCompact(999, "en")).toBe("999");
    expect(formatCompact(1500, "en")).toBe("1.5K");
    expect(formatCompact(2_300_000, "en")).toBe("2.3M");
    expect(plain(formatCompact(1500, "ru"))).toBe("1,5 тыс.");
    expect(plain(formatCompact(2_300_000, "ru"))).toBe("2,3 млн");
    expect(plain(formatCompact(1500, "ar"))).toBe("1.5 ألف");
    expect(plain(formatCompact(2_300_000, "ar"))).toBe("2.3 مليون");
  });
});

describe("sizes", () => {
  it("in each language", () => {
    expect(formatBytes(512, "en")).toBe("512 B");
    expect(formatBytes(1536 * 1024, "en")).toBe("1.5 MB");
    expect(formatBytes(42 * 1024 * 1024, "en")).toBe("42 MB");
    expect(formatBytes(3 * 1024 ** 3, "ru")).toBe("3,0 ГБ");
    expect(formatBytes(1536 * 1024, "ar")).toBe("1.5 ميغابايت");
    expect(formatBytes(512, "ar")).toBe("512 بايت");
    expect(formatBytes(5 * 1024 ** 4, "ar")).toBe("5.0 تيرابايت");
  });
});

describe("durations", () => {
  it("as a clock in every language", () => {
    expect(formatDuration(65)).toBe("1:05");
    expect(formatDuration(3725)).toBe("1:02:05");
  });

  it("time left", () => {
    expect(formatEta(45, "en")).toBe("45 s");
    expect(formatEta(3900, "en")).toBe("1 h 5 min");
    expect(formatEta(150, "ru")).toBe("3 мин");
    expect(formatEta(45, "ar")).toBe("45 ث");
    expect(formatEta(3900, "ar")).toBe("1 س 5 د");
    expect(formatEta(-1, "ar")).toBe("—");
  });
});

describe("ages", () => {
  it("relative, with the language's words for near days", () => {
    expect(timeAgo("2026-11-20T12:00:00Z", now, "en")).toBe("3 days ago");
    expect(timeAgo("2026-11-20T12:00:00Z", now, "ru")).toBe("3 дня назад");
    expect(timeAgo("2026-11-20T12:00:00Z", now, "ar")).toBe("قبل 3 أيام");
    expect(timeAgo("2026-11-22T12:00:00Z", now, "en")).toBe("yesterday");
    expect(timeAgo("2026-11-22T12:00:00Z", now, "ru")).toBe("вчера");
    expect(timeAgo("2026-11-22T12:00:00Z", now, "ar")).toBe("أمس");
    expect(timeAgo("2026-11-23T10:00:00Z", now, "ar")).toBe("قبل ساعتين");
    expect(timeAgo("2025-11-20T12:00:00Z", now, "ar")).toBe("السنة الماضية");
    expect(timeAgo("2026-11-23T11:59:30Z", now, "en")).toBe("30 seconds ago");
  });
});

describe("dates", () => {
  const iso = "2027-01-05T10:00:00Z";
  it("a day in words of the language, Gregorian in Arabic too", () => {
    expect(formatDate(iso, "en")).toBe("5 January 2027");
    expect(plain(formatDate(iso, "ru"))).toBe("5 января 2027 г.");
    expect(formatDate(iso, "ar")).toBe("5 يناير 2027");
  });

  it("a day and a time", () => {
    // The hour is the viewer's time zone's.
    expect(dateTime(iso, "en")).toMatch(/^5 January 2027(,| at) \d{2}:00$/);
    expect(plain(dateTime(iso, "ru"))).toMatch(/^5 января 2027 г\.(,| в) \d{2}:00$/);
    expect(dateTime(iso, "ar")).toMatch(/^5 يناير 2027/);
    expect(dateTime(iso, "ar")).not.toMatch(/[\u0660-\u0669]/);
  });
});

describe("language names", () => {
  it("in the interface's language", () => {
    expect(languageName("ar", "en")).toBe("Arabic");
    expect(languageName("ar", "ru")).toBe("арабский");
    expect(languageName("ru", "ar")).toBe("الروسية");
  });
});
