// Direct uploads (offered on the S3 backend): the file's parts go straight to the bucket with
// presigned URLs, a few at once, each retried with back-off; Kadr only plans the upload, hands
// out the URLs and completes it. The upload's id is kept in localStorage under the file's
// fingerprint, so the same file picked again after a reload goes on with the parts storage
// does not hold yet.
//
// The page gives `DirectTransfer` the file and what to create; the calls (Kadr's API and the
// PUTs to storage) are behind `DirectApi`, so the logic here runs against a fake in the tests.
import { ApiError, apiUrl, field, retryAfterSecs, serverNow, setToken, token, type Answer, type PathOf } from "./api";
import type { components } from "./api-schema";

type Schemas = components["schemas"];
export type DirectNew = Schemas["DirectNew"];
export type DirectUpload = Schemas["DirectUpload"];
export type StoredPart = Schemas["StoredPart"];
export type PartUrl = Schemas["PartUrl"];
export type UrlList = Schemas["UrlList"];
export type Completed = Schemas["Completed"];

const CREATE = "/api/v1/direct-uploads" satisfies PathOf<"post">;
const SHOW = "/api/v1/direct-uploads/{id}" satisfies PathOf<"get">;
const URLS = "/api/v1/direct-uploads/{id}/urls" satisfies PathOf<"post">;
const COMPLETE = "/api/v1/direct-uploads/{id}/complete" satisfies PathOf<"post">;

/** Part URLs asked for in one request at most (the server's limit). */
export const MAX_URLS = 100;

// ---------------------------------------------------------------------------------------------
// The plan: how the file is cut into parts, and which of them storage still lacks.

/** How the server cut the file: every part but the last has `partSize` bytes. */
export interface Plan {
  size: number;
  partSize: number;
  count: number;
}

export function planOf(up: Pick<DirectUpload, "size" | "part_size" | "part_count">): Plan {
  return { size: up.size, partSize: up.part_size, count: up.part_count };
}

/** The bytes [start, end) of part `n` (1-based) of the file. */
export function partRange(plan: Plan, n: number): [number, number] {
  if (!Number.isInteger(n) || n < 1 || n > plan.count) throw new RangeError(`part ${n} is not one of 1..${plan.count}`);
  const start = (n - 1) * plan.partSize;
  return [start, Math.min(n * plan.partSize, plan.size)];
}

/** How many bytes part `n` has. */
export function partLength(plan: Plan, n: number): number {
  const [start, end] = partRange(plan, n);
  return end - start;
}

/** Whether storage holds part `p.part` as planned (one of the plan's, of its size). */
function holds(plan: Plan, p: StoredPart): boolean {
  return Number.isInteger(p.part) && p.part >= 1 && p.part <= plan.count && p.size === partLength(plan, p.part);
}

/** The parts to send, in order: those storage does not hold, or holds with another size. */
export function missingParts(plan: Plan, stored: readonly StoredPart[]): number[] {
  const held = new Set(stored.filter((p) => holds(plan, p)).map((p) => p.part));
  const missing: number[] = [];
  for (let n = 1; n <= plan.count; n++) if (!held.has(n)) missing.push(n);
  return missing;
}

/** The bytes storage already holds as planned (each part counted once). */
export function storedBytes(plan: Plan, stored: readonly StoredPart[]): number {
  const held = new Set(stored.filter((p) => holds(plan, p)).map((p) => p.part));
  let bytes = 0;
  for (const n of held) bytes += partLength(plan, n);
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Concurrency, back-off and cancellation.

/** The error an aborted transfer rejects with. */
export function abortError(): DOMException {
  return new DOMException("The upload was cancelled", "AbortError");
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException && e.name === "AbortError";
}

/** Waits `ms`, or rejects as soon as `signal` is aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((ok, fail) => {
    if (signal?.aborted) return fail(abortError());
    const stop = () => {
      clearTimeout(timer);
      fail(abortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", stop);
      ok();
    }, ms);
    signal?.addEventListener("abort", stop, { once: true });
  });
}

/** Runs `work` on every item, at most `limit` at once, taking them in order. The first
 * failure aborts the signal the others were given and is what this rejects with (after every
 * started one has ended); aborting `signal` does the same. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  work: (item: T, signal: AbortSignal) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  const inner = new AbortController();
  const relay = () => inner.abort();
  signal?.addEventListener("abort", relay, { once: true });
  if (signal?.aborted) inner.abort();
  let next = 0;
  let failure: { error: unknown } | null = null;
  const lane = async () => {
    while (!inner.signal.aborted && next < items.length) {
      const item = items[next++];
      try {
        await work(item, inner.signal);
      } catch (error) {
        failure ??= { error };
        inner.abort();
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, lane));
  } finally {
    signal?.removeEventListener("abort", relay);
  }
  if (signal?.aborted) throw abortError();
  if (failure) throw (failure as { error: unknown }).error;
}

/** A failed PUT to storage: `status` 0 when no answer came (network, CORS, a stall). */
export class PutError extends Error {
  constructor(
    public status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Whether trying the same request again may help: no answer, a timeout, a rate limit or a
 * server's failure (and for storage a refused signature, which a fresh URL mends). */
export function transient(e: unknown): boolean {
  if (isAbort(e)) return false;
  if (e instanceof PutError) return e.status === 0 || e.status === 403 || e.status === 408 || e.status === 429 || e.status >= 500;
  if (e instanceof ApiError) return e.status === 0 || e.status === 408 || e.status === 429 || e.status >= 500;
  // fetch's TypeError: no answer at all.
  return e instanceof TypeError;
}

// ---------------------------------------------------------------------------------------------
// The calls.

/** What a transfer calls: Kadr's four endpoints and a PUT of bytes to a storage URL. */
export interface DirectApi {
  create(body: DirectNew, signal: AbortSignal): Promise<DirectUpload>;
  show(id: string, signal: AbortSignal): Promise<DirectUpload>;
  urls(id: string, parts: number[], signal: AbortSignal): Promise<UrlList>;
  complete(id: string, signal: AbortSignal): Promise<Completed>;
  /** PUTs `body` to `url` (no credentials, no headers of its own); `progress` is told the
   * bytes of it sent so far. Rejects with a `PutError`, or an AbortError. */
  put(url: string, body: Blob, progress: (sent: number) => void, signal: AbortSignal): Promise<void>;
}

/** A call to Kadr with the bearer token, abortable; failures are `ApiError`s. */
async function kadr<T>(method: string, path: string, body: unknown, signal: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (res.status === 401 && t) setToken(null);
  if (!res.ok) {
    const wait = retryAfterSecs(res.headers.get("retry-after"));
    let problem: unknown = null;
    try {
      problem = await res.json();
    } catch {
      // Not problem+json.
    }
    throw new ApiError(res.status, field(problem, "code") ?? "error", field(problem, "detail") ?? field(problem, "title") ?? res.statusText, wait);
  }
  return (await res.json()) as T;
}

/** A PUT with XMLHttpRequest (fetch tells nothing of a body's progress). A request that sends
 * nothing for `stallMs` is given up (as a `PutError` with status 0, so it is tried again). */
export function xhrPut(url: string, body: Blob, progress: (sent: number) => void, signal: AbortSignal, stallMs = 60_000): Promise<void> {
  return new Promise((ok, fail) => {
    if (signal.aborted) return fail(abortError());
    const xhr = new XMLHttpRequest();
    let stalled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const watch = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        stalled = true;
        xhr.abort();
      }, stallMs);
    };
    const onAbort = () => xhr.abort();
    const end = (then: () => void) => {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
      then();
    };
    xhr.open("PUT", url);
    xhr.upload.addEventListener("progress", (e) => {
      watch();
      progress(e.loaded);
    });
    xhr.addEventListener("load", () =>
      end(() => (xhr.status >= 200 && xhr.status < 300 ? ok() : fail(new PutError(xhr.status, `storage answered ${xhr.status} ${xhr.statusText}`.trim())))),
    );
    xhr.addEventListener("error", () => end(() => fail(new PutError(0, "the storage server could not be reached"))));
    xhr.addEventListener("timeout", () => end(() => fail(new PutError(0, "the storage server did not answer"))));
    xhr.addEventListener("abort", () => end(() => fail(stalled ? new PutError(0, "the upload to storage stalled") : abortError())));
    signal.addEventListener("abort", onAbort, { once: true });
    watch();
    xhr.send(body);
  });
}

/** The calls as the browser makes them. */
export const browserApi: DirectApi = {
  create: (body, signal) => kadr<Answer<"post", typeof CREATE>>("POST", CREATE, body, signal),
  show: (id, signal) => kadr<Answer<"get", typeof SHOW>>("GET", apiUrl(SHOW, { id }), undefined, signal),
  urls: (id, parts, signal) => kadr<Answer<"post", typeof URLS>>("POST", apiUrl(URLS, { id }), { parts }, signal),
  complete: (id, signal) => kadr<Answer<"post", typeof COMPLETE>>("POST", apiUrl(COMPLETE, { id }), undefined, signal),
  put: (url, body, progress, signal) => xhrPut(url, body, progress, signal),
};

// ---------------------------------------------------------------------------------------------
// Part URLs: handed out in batches, valid for a while.

/** The part URLs known, asked for in batches (the part needed and those after it in the
 * order given, up to 100); one request per part at a time however many lanes wait for it. */
export class UrlBook {
  private known = new Map<number, { url: string; until: number }>();
  private asked = new Map<number, Promise<void>>();

  constructor(
    private ask: (parts: number[]) => Promise<UrlList>,
    /** Now, on the server's clock (the expiry times are on it). */
    private now: () => number = serverNow,
    /** A URL this close to its expiry is not used. */
    private margin = 120_000,
  ) {}

  add(urls: readonly PartUrl[], expiresAt: string | null | undefined): void {
    const until = expiresAt ? Date.parse(expiresAt) : NaN;
    for (const u of urls) this.known.set(u.part, { url: u.url, until: Number.isFinite(until) ? until : Infinity });
  }

  /** Forgets part `n`'s URL (storage refused it). */
  forget(n: number): void {
    this.known.delete(n);
  }

  private fresh(n: number): string | undefined {
    const k = this.known.get(n);
    return k && k.until - this.margin > this.now() ? k.url : undefined;
  }

  /** Part `n`'s URL; when it has none, asks for it and for those of `after` lacking one. */
  async get(n: number, after: readonly number[] = []): Promise<string> {
    const have = this.fresh(n);
    if (have) return have;
    let pending = this.asked.get(n);
    if (!pending) {
      const batch = [n, ...after.filter((m) => m !== n && !this.fresh(m) && !this.asked.has(m))].slice(0, MAX_URLS);
      const request = this.ask(batch).then((list) => this.add(list.urls, list.expires_at));
      pending = request.finally(() => {
        for (const m of batch) if (this.asked.get(m) === pending) this.asked.delete(m);
      });
      for (const m of batch) this.asked.set(m, pending);
    }
    await pending;
    // Just handed out: used even if this clock says otherwise (storage is the judge).
    const got = this.known.get(n);
    if (!got) throw new Error(`the server gave no URL for part ${n}`);
    return got.url;
  }
}

// ---------------------------------------------------------------------------------------------
// A transfer.

export interface TransferOptions {
  api?: DirectApi;
  /** Parts in flight at once. */
  concurrency?: number;
  /** The waits before each new attempt of a part (its attempts are one more). */
  backoff?: readonly number[];
  /** Waits (the tests' is instant). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Bytes storage holds or has taken so far, of the file's. */
  onProgress?: (sent: number, total: number) => void;
  /** A part failed and is tried again after `wait` ms. */
  onRetry?: (part: number, attempt: number, wait: number, error: unknown) => void;
  /** A new upload was created (before any byte is sent): its id is worth remembering. */
  onCreated?: (up: DirectUpload) => void;
}

export interface Outcome extends Completed {
  /** The upload went on from an earlier one. */
  resumed: boolean;
  /** The parts this transfer sent (the last round's and the earlier ones'). */
  sent: number[];
}

/** Rounds of completion refused for missing parts before giving up. */
const ROUNDS = 4;
/** Attempts at completing while another request holds the upload. */
const BUSY_TRIES = 10;

/** One file's direct upload: `run` creates it (or goes on with an earlier one), sends the
 * parts storage lacks and completes it; `abort` cancels every request in flight. */
export class DirectTransfer {
  private api: DirectApi;
  private controller = new AbortController();
  private concurrency: number;
  private backoff: readonly number[];
  private wait: (ms: number, signal: AbortSignal) => Promise<void>;
  private sentParts: number[] = [];

  constructor(
    private file: Blob,
    private opts: TransferOptions = {},
  ) {
    this.api = opts.api ?? browserApi;
    this.concurrency = opts.concurrency ?? 4;
    this.backoff = opts.backoff ?? [1000, 3000, 8000];
    this.wait = opts.sleep ?? sleep;
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  abort(): void {
    this.controller.abort();
  }

  /** Goes on with upload `resume` when storage still has it for a file of this size (else
   * creates one from `create`), sends what is missing and completes it. */
  async run(create: DirectNew, resume?: string | null): Promise<Outcome> {
    const signal = this.controller.signal;
    let up: DirectUpload | null = null;
    if (resume) up = await this.earlier(resume);
    const resumed = up !== null;
    if (!up) {
      // Tried again only when the server answered that it could not (nothing was made then).
      const refusedForNow = (e: unknown) => e instanceof ApiError && (e.status === 503 || (e.status === 429 && e.code !== "too_many_uploads"));
      up = await this.again(() => this.api.create({ ...create, size: this.file.size }, signal), refusedForNow);
      this.opts.onCreated?.(up);
    }
    const id = up.id;
    const book = new UrlBook((parts) => this.api.urls(id, parts, signal));
    book.add(up.urls ?? [], up.urls_expire_at);
    if (up.state === "complete") return { ...(await this.complete(up.id)), resumed, sent: [] };
    for (let round = 1; ; round++) {
      await this.send(up, book);
      try {
        return { ...(await this.complete(up.id)), resumed, sent: this.sentParts };
      } catch (e) {
        const incomplete = e instanceof ApiError && e.status === 409 && (e.code === "upload_incomplete" || e.code === "part_mismatch");
        if (!incomplete || round >= ROUNDS) throw e;
        // Storage lacks some (a lost answer, a part replaced): what it holds is asked again.
        up = await this.again(() => this.api.show(id, signal));
      }
    }
  }

  /** The earlier upload, if it can go on: active (or complete) and of this file's size. */
  private async earlier(id: string): Promise<DirectUpload | null> {
    try {
      const up = await this.again(() => this.api.show(id, this.controller.signal));
      const usable = up.size === this.file.size && (up.state === "active" || up.state === "complete");
      return usable ? up : null;
    } catch (e) {
      // Gone (expired, terminated, another account's): a new one is made.
      if (e instanceof ApiError && (e.status === 404 || e.status === 410)) return null;
      throw e;
    }
  }

  /** `call`, tried again after a wait (the server's `Retry-After`, else the back-off) while it
   * fails in a way that may pass. */
  private async again<T>(call: () => Promise<T>, retry: (e: unknown) => boolean = transient): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        if (this.controller.signal.aborted || attempt > this.backoff.length || !retry(e)) throw e;
        const told = e instanceof ApiError && e.retryAfter !== null ? Math.min(e.retryAfter, 30) * 1000 : null;
        await this.wait(told ?? this.backoff[attempt - 1], this.controller.signal);
      }
    }
  }

  /** Sends the parts storage does not hold, `concurrency` at once. */
  private async send(up: DirectUpload, book: UrlBook): Promise<void> {
    const signal = this.controller.signal;
    const plan = planOf(up);
    const missing = missingParts(plan, up.parts);
    const base = storedBytes(plan, up.parts);
    let done = 0;
    const moving = new Map<number, number>();
    const report = () => {
      let sent = base + done;
      for (const b of moving.values()) sent += b;
      this.opts.onProgress?.(Math.min(sent, plan.size), plan.size);
    };
    report();
    await pool(
      missing.map((_, i) => i),
      this.concurrency,
      async (i, lane) => {
        const n = missing[i];
        const [start, end] = partRange(plan, n);
        const body = this.file.slice(start, end);
        for (let attempt = 1; ; attempt++) {
          try {
            const url = await book.get(n, missing.slice(i + 1, i + 1 + MAX_URLS));
            moving.set(n, 0);
            await this.api.put(
              url,
              body,
              (sent) => {
                moving.set(n, Math.min(sent, end - start));
                report();
              },
              lane,
            );
            moving.delete(n);
            done += end - start;
            this.sentParts.push(n);
            report();
            return;
          } catch (e) {
            moving.delete(n);
            report();
            if (lane.aborted || !transient(e) || attempt > this.backoff.length) throw e;
            if (e instanceof PutError && e.status === 403) book.forget(n);
            const wait = this.backoff[attempt - 1] * (0.75 + Math.random() / 2);
            this.opts.onRetry?.(n, attempt, wait, e);
            await this.wait(wait, lane);
          }
        }
      },
      signal,
    );
  }

  /** Completes the upload, waiting while another request completes it or the server asks
   * to wait. */
  private async complete(id: string): Promise<Completed> {
    const signal = this.controller.signal;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.api.complete(id, signal);
      } catch (e) {
        const busy = e instanceof ApiError && e.status === 423;
        if (attempt >= BUSY_TRIES || !(busy || transient(e))) throw e;
        const told = e instanceof ApiError && e.retryAfter !== null ? e.retryAfter * 1000 : null;
        await this.wait(told ?? Math.min(1000 * attempt, 5000), signal);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// What this browser remembers of an upload, by file.

/** The video's fields an upload was started with (restored when the file is picked again). */
export type StartedWith = {
  title?: string;
  description?: string;
  privacy?: string;
  channel?: string;
};

export interface Remembered {
  id: string;
  videoId: string;
  fields: StartedWith;
  /** When the server drops the unfinished upload (ISO time). */
  expiresAt: string;
}

const PREFIX = "kadr.direct::";

/** The key of a file: its name, size and modification time (what the browser tells of it). */
export function fileKey(file: Pick<File, "name" | "size" | "lastModified">): string {
  return `${PREFIX}${file.name}::${file.size}::${file.lastModified}`;
}

function storage(): Storage | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null;
  }
}

export function remember(file: Pick<File, "name" | "size" | "lastModified">, r: Remembered): void {
  try {
    storage()?.setItem(fileKey(file), JSON.stringify(r));
  } catch {
    // Storage full or refused: the upload just cannot be resumed after a reload.
  }
}

export function forget(file: Pick<File, "name" | "size" | "lastModified">): void {
  storage()?.removeItem(fileKey(file));
}

/** The upload started earlier for this file, unless it has expired (then forgotten). */
export function recall(file: Pick<File, "name" | "size" | "lastModified">, now = Date.now()): Remembered | null {
  const raw = storage()?.getItem(fileKey(file));
  if (!raw) return null;
  let r: unknown;
  try {
    r = JSON.parse(raw);
  } catch {
    r = null;
  }
  const id = field(r, "id");
  const videoId = field(r, "videoId");
  const expiresAt = field(r, "expiresAt");
  const fields: unknown = typeof r === "object" && r !== null ? (r as Record<string, unknown>).fields : null;
  const expired = !expiresAt || !(Date.parse(expiresAt) > now);
  if (!id || !videoId || expired) {
    forget(file);
    return null;
  }
  const started: StartedWith = {};
  for (const k of ["title", "description", "privacy", "channel"] as const) {
    const v = field(fields, k);
    if (v !== undefined) started[k] = v;
  }
  return { id, videoId, fields: started, expiresAt };
}
