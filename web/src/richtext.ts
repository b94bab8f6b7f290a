// User text (comments, descriptions) shown as text: http(s) addresses become links that open
// in a new tab, and times such as 1:23 or 1:02:03 become buttons that seek the player. The
// DOM is built from text nodes only, so markup in the text stays visible characters.
import { h } from "./dom";

export type Segment =
  | { kind: "text"; text: string }
  | { kind: "link"; text: string; href: string }
  | { kind: "time"; text: string; secs: number };

/** What a user-written link carries: no referrer, no ranking credit, no opener. */
export const UGC_REL = "nofollow ugc noopener noreferrer";

// An address runs to the next space, angle bracket or quote. A time stands alone: not inside
// a word, a longer run of colons or a decimal number.
const TOKEN =
  /(?<![\p{L}\p{N}])(https?:\/\/[^\s<>"'`«»“”‘’]+)|(?<![\p{L}\p{N}:.,/])(?:(\d{1,2}):)?(\d{1,2}):(\d{2})(?![\p{L}\p{N}:]|[.,]\d)/giu;

/** The address as a link's target when it is an http(s) URL with a host, normalised by the
 * URL parser (so no quote or space survives into it); `null` for anything else. */
export function safeHref(url: string): string | null {
  // As written: the scheme, two slashes and the host at once (the parser would also take
  // "https:///x" or "https:\\x" as addresses of the host x).
  if (!/^https?:\/\/[^\s/\\?#@]/i.test(url)) return null;
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return null;
  }
  if ((u.protocol !== "http:" && u.protocol !== "https:") || !u.hostname) return null;
  return u.href;
}

/** Drops the punctuation that ends a sentence rather than the address: trailing dots,
 * commas and the like, and a closing bracket the address did not open. */
function trimAddress(url: string): string {
  let end = url.length;
  for (;;) {
    const c = url[end - 1];
    if (".,;:!?*".includes(c)) end--;
    else if (c === ")" || c === "]" || c === "}") {
      const open = { ")": "(", "]": "[", "}": "{" }[c];
      const s = url.slice(0, end);
      if (s.split(open).length >= s.split(c).length) break;
      end--;
    } else break;
  }
  return url.slice(0, end);
}

/** Seconds of `h:mm:ss` or `m:ss` parts; `null` when a part is out of range. */
function seconds(hours: string | undefined, minutes: string, secs: string): number | null {
  const s = Number(secs);
  const m = Number(minutes);
  if (s > 59) return null;
  if (hours === undefined) return m * 60 + s;
  if (minutes.length !== 2 || m > 59) return null;
  return Number(hours) * 3600 + m * 60 + s;
}

/** Text split into plain runs, links and times. Times past `maxSecs` (the video's length)
 * stay text. */
export function segments(text: string, maxSecs = Infinity): Segment[] {
  const out: Segment[] = [];
  const push = (s: Segment) => {
    const last = out[out.length - 1];
    if (s.kind === "text" && last?.kind === "text") last.text += s.text;
    else if (s.text) out.push(s);
  };
  let at = 0;
  for (const m of text.matchAll(TOKEN)) {
    const start = m.index;
    let token: Segment | null = null;
    let length = m[0].length;
    if (m[1] !== undefined) {
      const url = trimAddress(m[1]);
      const href = safeHref(url);
      length = url.length;
      if (href) token = { kind: "link", text: url, href };
    } else {
      const secs = seconds(m[2], m[3], m[4]);
      if (secs !== null && secs <= maxSecs) token = { kind: "time", text: m[0], secs };
    }
    if (!token) continue;
    push({ kind: "text", text: text.slice(at, start) });
    push(token);
    at = start + length;
  }
  push({ kind: "text", text: text.slice(at) });
  return out;
}

export interface RichTextOptions {
  /** Seeks the player; without it times stay text. */
  seek?: (secs: number) => void;
  /** The video's length in seconds: later times stay text. */
  duration?: number | null;
}

/** The nodes that show `text`: text nodes, links and time buttons. */
export function richText(text: string, opts: RichTextOptions = {}): Node[] {
  const seek = opts.seek;
  const max = opts.duration && opts.duration > 0 ? Math.ceil(opts.duration) : Infinity;
  return segments(text, seek ? max : -1).map((s) => {
    if (s.kind === "link") return h("a.ext", { href: s.href, rel: UGC_REL, target: "_blank" }, s.text);
    if (s.kind === "time" && seek) {
      return h("button.timestamp", { type: "button", dataset: { seek: String(s.secs) }, onclick: () => seek(s.secs) }, s.text);
    }
    return document.createTextNode(s.text);
  });
}
