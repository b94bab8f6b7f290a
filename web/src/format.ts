// Numbers, sizes, durations and dates as the interface shows them.
import { dateLocale, formatCount, type Lang, lang, numberLocale } from "./i18n";

/** 65 → "1:05", 3725 → "1:02:05". */
export function formatDuration(secs: number): string {
  const s = Math.max(0, Math.floor(secs));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${r}` : `${m}:${r}`;
}

// Binary multiples under the names people know them by (as file managers write them).
const UNITS: Record<Lang, string[]> = {
  en: ["B", "KB", "MB", "GB", "TB"],
  ru: ["Б", "КБ", "МБ", "ГБ", "ТБ"],
  // Whole words: Arabic's abbreviations (ك.ب, م.ب) are less read than these.
  ar: ["بايت", "كيلوبايت", "ميغابايت", "غيغابايت", "تيرابايت"],
};

/** Bytes in binary units with one decimal below 10: "512 B", "1.5 MB", "42 MB". */
export function formatBytes(bytes: number, l: Lang = lang()): string {
  let v = Math.max(0, bytes);
  let i = 0;
  while (v >= 1024 && i < UNITS[l].length - 1) {
    v /= 1024;
    i++;
  }
  const digits = i > 0 && v < 10 ? 1 : 0;
  const n = new Intl.NumberFormat(numberLocale(l), {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  }).format(v);
  return `${n} ${UNITS[l][i]}`;
}

// Seconds, minutes and hours, short (Intl's own short units, but as one table across the
// three, with English's "s" and "h" rather than "sec" and "hr").
const TIME_UNITS: Record<Lang, [string, string, string]> = {
  en: ["s", "min", "h"],
  ru: ["с", "мин", "ч"],
  ar: ["ث", "د", "س"],
};

/** Seconds left as "45 s", "3 min", "1 h 5 min" ("1 ч 5 мин", "1 س 5 د"). */
export function formatEta(secs: number, l: Lang = lang()): string {
  if (!Number.isFinite(secs) || secs < 0) return "—";
  const s = Math.ceil(secs);
  const [sec, min, hr] = TIME_UNITS[l];
  const n = (v: number) => formatCount(v, l);
  if (s < 60) return `${n(s)} ${sec}`;
  const m = Math.ceil(s / 60);
  if (m < 60) return `${n(m)} ${min}`;
  return `${n(Math.floor(m / 60))} ${hr} ${n(m % 60)} ${min}`;
}

/** Upload rate over a sliding window of (time ms, bytes) samples. */
export class RateMeter {
  private samples: [number, number][] = [];
  constructor(private windowMs = 5000) {}

  add(at: number, bytes: number): void {
    this.samples.push([at, bytes]);
    while (this.samples.length > 2 && at - this.samples[0][0] > this.windowMs) this.samples.shift();
  }

  /** Bytes per second, 0 until two samples apart in time. */
  rate(): number {
    if (this.samples.length < 2) return 0;
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? ((b1 - b0) * 1000) / (t1 - t0) : 0;
  }

  eta(total: number): number {
    const r = this.rate();
    const last = this.samples[this.samples.length - 1];
    return r > 0 && last ? (total - last[1]) / r : Infinity;
  }
}

/** "3 days ago" / "3 дня назад" / "قبل 3 أيام"; "yesterday" where a language has a word for it. */
export function timeAgo(iso: string, now: number = Date.now(), l: Lang = lang()): string {
  const secs = (new Date(iso).getTime() - now) / 1000;
  const rtf = new Intl.RelativeTimeFormat(numberLocale(l), { numeric: "auto" });
  const steps: [Intl.RelativeTimeFormatUnit, number][] = [
    ["year", 365 * 86400],
    ["month", 30 * 86400],
    ["week", 7 * 86400],
    ["day", 86400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of steps) {
    if (Math.abs(secs) >= size) return rtf.format(Math.round(secs / size), unit);
  }
  return rtf.format(Math.round(secs), "second");
}

/** A date and time in the interface's language: "5 January 2027, 10:00" / "5 января 2027 г., 10:00" / "5 يناير 2027، 10:00 ص". */
export function dateTime(iso: string | Date, l: Lang = lang()): string {
  return new Intl.DateTimeFormat(dateLocale(l), { dateStyle: "long", timeStyle: "short" }).format(new Date(iso));
}

/** A day in the interface's language: "5 January 2027" / "5 января 2027 г." / "5 يناير 2027". */
export function formatDate(iso: string | Date, l: Lang = lang()): string {
  return new Intl.DateTimeFormat(dateLocale(l), { dateStyle: "long" }).format(new Date(iso));
}
