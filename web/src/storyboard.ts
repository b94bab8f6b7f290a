// Storyboard thumbnails: a WebVTT file whose cues point into sprite sheets with `#xywh`.

export interface Thumb {
  start: number;
  end: number;
  url: string;
  x: number;
  y: number;
  w: number;
  h: number;
}

function seconds(ts: string): number {
  const parts = ts.trim().split(":").map(Number);
  if (parts.some((p) => Number.isNaN(p))) return NaN;
  return parts.reduce((acc, p) => acc * 60 + p, 0);
}

/** The cues of a storyboard VTT; relative image URLs are resolved against `base` (the VTT's own
 * URL). Malformed cues are skipped. */
export function parseStoryboard(vtt: string, base: string): Thumb[] {
  const thumbs: Thumb[] = [];
  const lines = vtt.replace(/\r\n?/g, "\n").split("\n");
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*([\d:.]+)\s+-->\s+([\d:.]+)/.exec(lines[i]);
    if (!m) continue;
    const target = (lines[i + 1] ?? "").trim();
    const hash = target.lastIndexOf("#xywh=");
    if (hash < 0) continue;
    const xywh = target.slice(hash + 6).split(",").map(Number);
    if (xywh.length !== 4 || xywh.some((n) => !Number.isFinite(n))) continue;
    const start = seconds(m[1]);
    const end = seconds(m[2]);
    if (!Number.isFinite(start) || !Number.isFinite(end)) continue;
    const [x, y, w, h] = xywh;
    thumbs.push({ start, end, url: new URL(target.slice(0, hash), base).toString(), x, y, w, h });
  }
  return thumbs;
}

/** The thumbnail shown at `time` seconds (the last cue starting at or before it). */
export function thumbAt(thumbs: Thumb[], time: number): Thumb | undefined {
  let lo = 0;
  let hi = thumbs.length - 1;
  let found: Thumb | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (thumbs[mid].start <= time) {
      found = thumbs[mid];
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
