// Catalogue manifests read in the browser, by the rules `kadr import` reads them with (README,
// "Importing a catalogue"): CSV with a header row or JSON Lines, one video per row; each row
// checked first, a bad one reported with its line and why while the good ones go ahead. Rows
// naming a URL or an s3:// object are for the server to fetch; rows naming a local file are left
// to `kadr import`, which can read the disk. And the report of a run, the CLI's columns.
import type { components } from "./api-schema";

type UrlImport = components["schemas"]["UrlImport"];

/** The columns (CSV) and keys (JSON Lines) a manifest may have. */
export const COLUMNS = ["source", "external_id", "title", "description", "tags", "language", "privacy", "channel", "original_date", "captions", "thumbnail"] as const;
export type Column = (typeof COLUMNS)[number];

/** The longest external id the server keeps. */
export const EXTERNAL_ID_MAX = 200;

/** Why a row is not sent, as the CLI says it (its codes), with what fills the words in. */
export type RowProblem =
  | "missing_source"
  | "bad_source"
  | "bad_external_id"
  | "bad_privacy"
  | "bad_date"
  | "bad_captions"
  | "bad_json"
  | "bad_row"
  | "unknown_column"
  | "unknown_key"
  | "duplicate_external_id"
  | "local_file";

/** One row of a manifest as read. `line` is where it starts (1 is a CSV's header). */
export type ManifestRow =
  | {
      kind: "remote";
      line: number;
      external_id: string;
      /** The import to ask for (without the run's batch, channel or privacy defaults). */
      body: UrlImport & { url: string; external_id: string };
      /** Columns given that the browser does not send (captions and thumbnails are files or
       * URLs the CLI reads itself): `kadr import` with the same manifest adds them later. */
      unsent: ("captions" | "thumbnail")[];
    }
  | {
      kind: "bad";
      line: number;
      external_id: string | null;
      code: RowProblem;
      /** The parts of the sentence: the value at fault, a column's name, the other lines. */
      vars: Record<string, string>;
    };

// ---------------------------------------------------------------------------------------------
// CSV (RFC 4180): fields separated by commas, quoted with " where they hold a comma, a quote
// ("" inside) or a line break; lines end with LF, CRLF or CR. As the CLI's reader, a quote in
// the middle of an unquoted field is an ordinary character, and empty lines are no rows.

/** A record of a CSV text and the line it starts on. */
export interface CsvRecord {
  line: number;
  fields: string[];
}

/** The records of `text`; `error` when a quoted field is never closed (the records before it
 * are kept; its line is where the field's record started). */
export function parseCsv(text: string): { records: CsvRecord[]; error: { line: number } | null } {
  const records: CsvRecord[] = [];
  let i = text.startsWith("\uFEFF") ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    // An empty line is skipped.
    if (text[i] === "\n" || text[i] === "\r") {
      i += text[i] === "\r" && text[i + 1] === "\n" ? 2 : 1;
      line++;
      continue;
    }
    const start = line;
    const fields: string[] = [];
    let field = "";
    let quoted = false;
    // Only a quote that opens a field quotes it.
    let fresh = true;
    for (;;) {
      if (quoted) {
        const close = text.indexOf('"', i);
        if (close < 0) return { records, error: { line: start } };
        const part = text.slice(i, close);
        field += part;
        line += countBreaks(part);
        if (text[close + 1] === '"') {
          field += '"';
          i = close + 2;
        } else {
          quoted = false;
          i = close + 1;
        }
        continue;
      }
      const c = i < n ? text[i] : "\n";
      if (c === ",") {
        fields.push(field);
        field = "";
        fresh = true;
        i++;
      } else if (c === "\n" || c === "\r") {
        fields.push(field);
        if (i < n) {
          i += c === "\r" && text[i + 1] === "\n" ? 2 : 1;
          line++;
        }
        break;
      } else if (c === '"' && fresh) {
        quoted = true;
        fresh = false;
        i++;
      } else {
        field += c;
        fresh = false;
        i++;
      }
    }
    records.push({ line: start, fields });
  }
  return { records, error: null };
}

/** How many line breaks `s` holds (CRLF is one). */
function countBreaks(s: string): number {
  return (s.match(/\r\n|\r|\n/g) ?? []).length;
}

/** A field for a CSV line: quoted when it holds a comma, a quote or a line break. */
export function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

// ---------------------------------------------------------------------------------------------
// Rows.

/** Trimmed, and `null` when nothing is left. */
function given(value: string | null | undefined): string | null {
  const v = value?.trim();
  return v ? v : null;
}

/** The server's rule for an external id: 1 to 200 characters, no control characters. */
export function validExternalId(id: string): boolean {
  return id.trim() !== "" && [...id].length <= EXTERNAL_ID_MAX && !/\p{Cc}/u.test(id);
}

/** The external id of a row (or a pasted URL) that gives none, as the CLI makes it: the
 * source as written, or `sha256:` and the hex digest of it when that is not a valid id. */
export function derivedId(source: string): string {
  return validExternalId(source) ? source : `sha256:${sha256Hex(source)}`;
}

/** A `YYYY-MM-DD` date or an RFC 3339 time that exists (no 13th month, no 30 February). */
export function validDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2})))?$/.exec(text);
  if (!m) return false;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > days) return false;
  if (m[4] === undefined) return true;
  // A leap second (:60) is RFC 3339's; chrono reads it too.
  return Number(m[4]) < 24 && Number(m[5]) < 60 && Number(m[6]) <= 60 && (m[7] === undefined || (Number(m[7]) < 24 && Number(m[8]) < 60));
}

/** `http(s)://` and `s3://` sources are the server's to fetch; anything else without a
 * scheme is a local path (`null`: a scheme that is neither). */
export function sourceKind(source: string): "remote" | "local" | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(source);
  if (!m) return "local";
  if (!["http", "https", "s3"].includes(m[1].toLowerCase())) return null;
  try {
    // s3://SOURCE/BUCKET/KEY is read as a URL with SOURCE for its host, as the CLI reads it.
    return new URL(source).host ? "remote" : null;
  } catch {
    return null;
  }
}

/** What a row gives, as read from either format. */
interface Raw {
  source?: string | null;
  external_id?: string | null;
  title?: string | null;
  description?: string | null;
  tags?: string[] | null;
  language?: string | null;
  privacy?: string | null;
  channel?: string | null;
  original_date?: string | null;
  captions?: boolean;
  thumbnail?: string | null;
}

/** A language tag as the server takes one: letters, digits and dashes, a letter first. */
function languageTag(tag: string): boolean {
  return tag.length <= 35 && /^[A-Za-z][A-Za-z0-9-]*$/.test(tag);
}

/** Checks a row as the CLI does (but for the files it reads, which only it can). */
function check(line: number, raw: Raw): ManifestRow {
  const external = given(raw.external_id);
  const bad = (code: RowProblem, vars: Record<string, string> = {}): ManifestRow => ({ kind: "bad", line, external_id: external, code, vars });
  const source = given(raw.source);
  if (!source) return bad("missing_source");
  const kind = sourceKind(source);
  if (kind === null) return bad("bad_source", { source });
  if (external !== null && !validExternalId(external)) return bad("bad_external_id");
  const privacy = given(raw.privacy)?.toLowerCase() ?? null;
  if (privacy !== null && privacy !== "public" && privacy !== "unlisted" && privacy !== "private") return bad("bad_privacy", { value: privacy });
  const date = given(raw.original_date);
  if (date !== null && !validDate(date)) return bad("bad_date", { value: date });
  const language = given(raw.language);
  if (kind === "local") return { kind: "bad", line, external_id: external, code: "local_file", vars: { source } };
  const tags = raw.tags?.map((t) => t.trim()).filter((t) => t) ?? null;
  const body: UrlImport & { url: string; external_id: string } = { url: source, external_id: external ?? derivedId(source) };
  const title = given(raw.title);
  if (title !== null) body.title = title;
  if (raw.description?.trim()) body.description = raw.description;
  if (tags?.length) body.tags = tags;
  if (language !== null) body.language = language;
  if (privacy !== null) body.privacy = privacy;
  const channel = given(raw.channel);
  if (channel !== null) body.channel = channel;
  if (date !== null) body.original_date = date;
  const unsent: ("captions" | "thumbnail")[] = [];
  if (raw.captions) unsent.push("captions");
  if (given(raw.thumbnail)) unsent.push("thumbnail");
  return { kind: "remote", line, external_id: body.external_id, body, unsent };
}

/** `LANG=FILE|LANG=FILE`: whether it reads as such (the files are the CLI's to find). */
function captionsSpec(text: string): string | null {
  const seen = new Set<string>();
  for (const part of text.split("|").map((p) => p.trim()).filter((p) => p)) {
    const eq = part.indexOf("=");
    if (eq < 0) return part;
    const lang = part.slice(0, eq).trim();
    if (!languageTag(lang) || seen.has(lang.toLowerCase()) || !part.slice(eq + 1).trim()) return part;
    seen.add(lang.toLowerCase());
  }
  return null;
}

/** The rows of a CSV manifest. */
export function csvRows(text: string): ManifestRow[] {
  const { records, error } = parseCsv(text);
  const rows: ManifestRow[] = [];
  const [head, ...body] = records;
  if (!head) return error ? [{ kind: "bad", line: error.line, external_id: null, code: "bad_row", vars: {} }] : [];
  const header = head.fields.map((h) => h.trim().toLowerCase());
  let fault: { code: RowProblem; vars: Record<string, string> } | null = null;
  header.forEach((name, i) => {
    if (fault) return;
    if (!(COLUMNS as readonly string[]).includes(name)) fault = { code: "unknown_column", vars: { column: name } };
    else if (header.indexOf(name) !== i) fault = { code: "unknown_column", vars: { column: name } };
  });
  if (!fault && !header.includes("source")) fault = { code: "missing_source", vars: {} };
  for (const record of body) {
    if (fault) {
      rows.push({ kind: "bad", line: record.line, external_id: null, ...fault });
      continue;
    }
    if (record.fields.length !== header.length) {
      rows.push({ kind: "bad", line: record.line, external_id: null, code: "bad_row", vars: { fields: String(record.fields.length), columns: String(header.length) } });
      continue;
    }
    const value = (c: Column) => {
      const at = header.indexOf(c);
      return at < 0 ? null : record.fields[at];
    };
    const captions = value("captions") ?? "";
    const wrong = captionsSpec(captions);
    if (wrong !== null) {
      rows.push({ kind: "bad", line: record.line, external_id: given(value("external_id")), code: "bad_captions", vars: { value: wrong } });
      continue;
    }
    rows.push(
      check(record.line, {
        source: value("source"),
        external_id: value("external_id"),
        title: value("title"),
        description: value("description"),
        tags: value("tags")?.split("|") ?? null,
        language: value("language"),
        privacy: value("privacy"),
        channel: value("channel"),
        original_date: value("original_date"),
        captions: captions.trim() !== "",
        thumbnail: value("thumbnail"),
      }),
    );
  }
  if (error) rows.push({ kind: "bad", line: error.line, external_id: null, code: "bad_row", vars: {} });
  return rows;
}

/** The rows of a JSON Lines manifest: one object a line, blank lines skipped. */
export function jsonRows(text: string): ManifestRow[] {
  const rows: ManifestRow[] = [];
  text.split("\n").forEach((raw, n) => {
    const line = n + 1;
    const source = raw.replace(/^\uFEFF/, "").trim();
    if (!source) return;
    let value: unknown;
    try {
      value = JSON.parse(source);
    } catch {
      rows.push({ kind: "bad", line, external_id: null, code: "bad_json", vars: {} });
      return;
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      rows.push({ kind: "bad", line, external_id: null, code: "bad_json", vars: {} });
      return;
    }
    const o = value as Record<string, unknown>;
    const external = typeof o.external_id === "string" ? given(o.external_id) : null;
    const unknown = Object.keys(o).find((k) => !(COLUMNS as readonly string[]).includes(k));
    if (unknown !== undefined) {
      rows.push({ kind: "bad", line, external_id: external, code: "unknown_key", vars: { key: unknown } });
      return;
    }
    // Each key holds a string (or null), tags a list of strings, captions an object of them.
    const str = (k: Column) => o[k] === undefined || o[k] === null || typeof o[k] === "string";
    const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === "string");
    const captions = o.captions;
    const captionsOk = captions === undefined || captions === null || (typeof captions === "object" && !Array.isArray(captions) && Object.values(captions).every((x) => typeof x === "string"));
    const wrong = COLUMNS.find((k) => (k === "tags" ? !(o.tags === undefined || o.tags === null || strings(o.tags)) : k === "captions" ? !captionsOk : !str(k)));
    if (wrong !== undefined) {
      rows.push({ kind: "bad", line, external_id: external, code: "bad_json", vars: {} });
      return;
    }
    const spec = captions ? Object.entries(captions as Record<string, string>).map(([l, f]) => `${l}=${f}`).join("|") : "";
    const bad = captionsSpec(spec);
    if (bad !== null) {
      rows.push({ kind: "bad", line, external_id: external, code: "bad_captions", vars: { value: bad } });
      return;
    }
    const s = (k: Column) => (typeof o[k] === "string" ? o[k] : null);
    rows.push(
      check(line, {
        source: s("source"),
        external_id: s("external_id"),
        title: s("title"),
        description: s("description"),
        tags: (o.tags as string[] | null | undefined) ?? null,
        language: s("language"),
        privacy: s("privacy"),
        channel: s("channel"),
        original_date: s("original_date"),
        captions: spec !== "",
        thumbnail: s("thumbnail"),
      }),
    );
  });
  return rows;
}

/** Whether a manifest named `name` holding `text` is JSON Lines (by its extension, else by its
 * first character). */
export function isJsonLines(name: string, text: string): boolean {
  if (/\.(jsonl|ndjson|json)$/i.test(name)) return true;
  if (/\.(csv|tsv|txt)$/i.test(name)) return false;
  return text.replace(/^\uFEFF/, "").trimStart().startsWith("{");
}

/** Every row of a manifest, checked, rows sharing an external id all marked (which was meant
 * cannot be told, so none goes). */
export function parseManifest(name: string, text: string): ManifestRow[] {
  const rows = isJsonLines(name, text) ? jsonRows(text) : csvRows(text);
  const lines = new Map<string, number[]>();
  for (const r of rows) if (r.kind === "remote") lines.set(r.external_id, [...(lines.get(r.external_id) ?? []), r.line]);
  return rows.map((r) => {
    const same = r.kind === "remote" ? lines.get(r.external_id)! : [];
    if (same.length < 2) return r;
    const others = same.filter((l) => l !== r.line).join(", ");
    return { kind: "bad", line: r.line, external_id: r.external_id, code: "duplicate_external_id", vars: { lines: others } };
  });
}

/** Pasted text: one URL a line (blank lines skipped), each with the line it is on. */
export function pastedUrls(text: string): { line: number; url: string }[] {
  return text
    .split(/\r\n|\r|\n/)
    .map((l, i) => ({ line: i + 1, url: l.trim() }))
    .filter((x) => x.url);
}

// ---------------------------------------------------------------------------------------------
// The report.

/** How a row ended, in the CLI's words. */
export type ReportStatus = "imported" | "skipped" | "queued" | "failed";

export interface ReportRow {
  line: string;
  external_id: string;
  video_id: string;
  status: ReportStatus;
  code: string;
  message: string;
}

/** The report as `kadr import` writes it: a header, then a line per row (LF-terminated). */
export function reportCsv(rows: readonly ReportRow[]): string {
  const head = ["line", "external_id", "video_id", "status", "code", "message"] as const;
  return [head.join(","), ...rows.map((r) => head.map((k) => csvField(r[k])).join(","))].map((l) => `${l}\n`).join("");
}

// ---------------------------------------------------------------------------------------------
// SHA-256 (FIPS 180-4) of a string's UTF-8 bytes, as hex: the digest the CLI names long sources
// by. Written out because the browser's own (crypto.subtle) is missing on plain-http origins
// and asynchronous.

const K = new Uint32Array(64);
{
  // The first 32 bits of the fractional parts of the cube roots of the first 64 primes.
  let found = 0;
  for (let p = 2; found < 64; p++) {
    let prime = true;
    for (let d = 2; d * d <= p; d++) if (p % d === 0) prime = false;
    if (!prime) continue;
    const root = Math.cbrt(p);
    K[found++] = Math.floor((root - Math.floor(root)) * 2 ** 32);
  }
}

export function sha256Hex(text: string): string {
  const data = new TextEncoder().encode(text);
  const bits = data.length * 8;
  const padded = new Uint8Array((((data.length + 9 + 63) >> 6) << 6));
  padded.set(data);
  padded[data.length] = 0x80;
  const view = new DataView(padded.buffer);
  view.setUint32(padded.length - 8, Math.floor(bits / 2 ** 32));
  view.setUint32(padded.length - 4, bits >>> 0);
  const hash = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
  const w = new Uint32Array(64);
  const rotr = (x: number, n: number) => (x >>> n) | (x << (32 - n));
  for (let at = 0; at < padded.length; at += 64) {
    for (let t = 0; t < 16; t++) w[t] = view.getUint32(at + t * 4);
    for (let t = 16; t < 64; t++) {
      const s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >>> 3);
      const s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >>> 10);
      w[t] = (w[t - 16] + s0 + w[t - 7] + s1) >>> 0;
    }
    let [a, b, c, d, e, f, g, hh] = hash;
    for (let t = 0; t < 64; t++) {
      const t1 = (hh + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) >>> 0;
      const t2 = ((rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) >>> 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) >>> 0;
    }
    const add = [a, b, c, d, e, f, g, hh];
    for (let i = 0; i < 8; i++) hash[i] = (hash[i] + add[i]) >>> 0;
  }
  return [...hash].map((x) => x.toString(16).padStart(8, "0")).join("");
}
