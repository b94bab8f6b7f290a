// @vitest-environment happy-dom
// Direct uploads to storage against a fake server: the part plan, what is left to send after a
// restart, the lanes, back-off, URL batches, completion refused for missing parts, cancel, and
// what the browser remembers of an upload.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError, setToken } from "../src/api";
import {
  DirectTransfer,
  forget,
  isAbort,
  missingParts,
  partLength,
  partRange,
  planOf,
  pool,
  PutError,
  recall,
  remember,
  storedBytes,
  transient,
  UrlBook,
  type Completed,
  type DirectApi,
  type DirectNew,
  type DirectUpload,
  type StoredPart,
  type UrlList,
} from "../src/direct";
import { upload as uploadPage } from "../src/pages/upload";
import * as tus from "tus-js-client";

const plan = { size: 12, partSize: 5, count: 3 };

describe("the part plan", () => {
  it("cuts the file into parts of the part size, the last one shorter", () => {
    expect(partRange(plan, 1)).toEqual([0, 5]);
    expect(partRange(plan, 2)).toEqual([5, 10]);
    expect(partRange(plan, 3)).toEqual([10, 12]);
    expect([1, 2, 3].map((n) => partLength(plan, n))).toEqual([5, 5, 2]);
    expect(partRange({ size: 10, partSize: 5, count: 2 }, 2)).toEqual([5, 10]);
    expect(() => partRange(plan, 0)).toThrow(RangeError);
    expect(() => partRange(plan, 4)).toThrow(RangeError);
    expect(planOf({ size: 12, part_size: 5, part_count: 3 })).toEqual(plan);
  });

  it("sends again what storage lacks or holds with another size", () => {
    expect(missingParts(plan, [])).toEqual([1, 2, 3]);
    expect(missingParts(plan, [{ part: 2, size: 5 }])).toEqual([1, 3]);
    // Part 1 cut short, part 3 of the right size, a part beyond the plan ignored.
    const stored: StoredPart[] = [
      { part: 1, size: 4 },
      { part: 3, size: 2 },
      { part: 4, size: 5 },
    ];
    expect(missingParts(plan, stored)).toEqual([1, 2]);
    expect(storedBytes(plan, stored)).toBe(2);
    expect(missingParts(plan, [{ part: 1, size: 5 }, { part: 2, size: 5 }, { part: 3, size: 2 }])).toEqual([]);
    expect(storedBytes(plan, [{ part: 1, size: 5 }, { part: 1, size: 5 }])).toBe(5);
  });
});

const tick = () => new Promise((ok) => setTimeout(ok, 0));

describe("lanes", () => {
  it("run at most `limit` at once, each item once, in order", async () => {
    let now = 0;
    let most = 0;
    const started: number[] = [];
    await pool([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3, async (n) => {
      started.push(n);
      most = Math.max(most, ++now);
      await new Promise((ok) => setTimeout(ok, (n * 7) % 5));
      now--;
    });
    expect(most).toBe(3);
    expect(started).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it("stop at the first failure: the others are told, nothing new starts", async () => {
    const started: number[] = [];
    const aborted: number[] = [];
    const run = pool([1, 2, 3, 4, 5, 6], 2, async (n, signal) => {
      started.push(n);
      if (n === 2) throw new Error("part 2 failed");
      await new Promise<void>((ok) =>
        signal.addEventListener("abort", () => {
          aborted.push(n);
          ok();
        }),
      );
    });
    await expect(run).rejects.toThrow("part 2 failed");
    expect(started).toEqual([1, 2]);
    expect(aborted).toEqual([1]);
  });

  it("stop when the caller aborts, with an AbortError", async () => {
    const ctl = new AbortController();
    const run = pool([1, 2, 3], 2, (_n, signal) => new Promise<void>((ok) => signal.addEventListener("abort", () => ok())), ctl.signal);
    await tick();
    ctl.abort();
    const e: unknown = await run.catch((x: unknown) => x);
    expect(isAbort(e)).toBe(true);
  });

  it("do nothing for no items", async () => {
    await pool([], 4, () => Promise.reject(new Error("called")));
  });
});

describe("retries", () => {
  it("are for failures that may pass", () => {
    expect(transient(new PutError(0, "network"))).toBe(true);
    expect(transient(new PutError(503, "busy"))).toBe(true);
    expect(transient(new PutError(403, "expired signature"))).toBe(true);
    expect(transient(new PutError(400, "bad"))).toBe(false);
    expect(transient(new ApiError(429, "too_many_requests", ""))).toBe(true);
    expect(transient(new ApiError(404, "not_found", ""))).toBe(false);
    expect(transient(new TypeError("Failed to fetch"))).toBe(true);
    expect(transient(new DOMException("x", "AbortError"))).toBe(false);
  });
});

describe("part URLs", () => {
  it("are asked for in batches of up to 100 from the part needed, once however many wait", async () => {
    const asked: number[][] = [];
    const book = new UrlBook(
      (parts) => {
        asked.push(parts);
        return Promise.resolve({ urls: parts.map((part) => ({ part, url: `u${part}` })), expires_at: "2030-01-01T00:00:00Z" });
      },
      () => Date.parse("2029-01-01T00:00:00Z"),
    );
    book.add([{ part: 1, url: "u1" }], "2030-01-01T00:00:00Z");
    expect(await book.get(1)).toBe("u1");
    expect(asked).toEqual([]);
    const after = Array.from({ length: 200 }, (_, i) => i + 3);
    const got = await Promise.all([book.get(2, after), book.get(3, after), book.get(150, [])]);
    expect(got).toEqual(["u2", "u3", "u150"]);
    expect(asked.length).toBe(2);
    expect(asked[0]).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect(asked[1]).toEqual([150]);
    // A refused one is asked for again.
    book.forget(2);
    expect(await book.get(2)).toBe("u2");
    expect(asked[2]).toEqual([2]);
  });

  it("are asked for again when about to expire", async () => {
    let now = Date.parse("2030-01-01T00:00:00Z");
    const asked: number[][] = [];
    const book = new UrlBook(
      (parts) => {
        asked.push(parts);
        return Promise.resolve({ urls: parts.map((part) => ({ part, url: `fresh${part}` })), expires_at: new Date(now + 3_600_000).toISOString() });
      },
      () => now,
    );
    book.add([{ part: 1, url: "old1" }], new Date(now + 3_600_000).toISOString());
    expect(await book.get(1)).toBe("old1");
    now += 3_550_000;
    expect(await book.get(1)).toBe("fresh1");
    expect(asked).toEqual([[1]]);
  });
});

/** A server and a bucket in memory: parts PUT are held by number with their bytes. */
class FakeServer implements DirectApi {
  uploads = new Map<string, { up: DirectUpload; parts: Map<number, Uint8Array> }>();
  puts: number[] = [];
  calls: string[] = [];
  inFlight = 0;
  mostInFlight = 0;
  /** Set to make a PUT fail: called with the part and its attempt (1, 2…). */
  failPut: (part: number, attempt: number) => Error | null = () => null;
  /** Set to hold PUTs until the signal aborts. */
  hold = false;
  /** Completion answers in turn before the real one (e.g. a busy lock). */
  completeFirst: Error[] = [];
  /** Parts storage loses before the first completion (its answer got lost, say). */
  lose: number[] = [];
  attempts = new Map<number, number>();
  private n = 0;

  constructor(private partSize = 5) {}

  create(body: DirectNew): Promise<DirectUpload> {
    this.calls.push("create");
    const id = `up${++this.n}`;
    const count = Math.ceil(body.size / this.partSize);
    const up: DirectUpload = {
      id,
      video_id: `video-${id}`,
      size: body.size,
      part_size: this.partSize,
      part_count: count,
      state: "active",
      expires_at: "2099-01-01T00:00:00Z",
      parts: [],
      // Only the first two URLs at creation, to make the rest be asked for.
      urls: Array.from({ length: Math.min(2, count) }, (_, i) => ({ part: i + 1, url: `https://s3.test/${id}/${i + 1}` })),
      urls_expire_at: "2099-01-01T00:00:00Z",
    };
    this.uploads.set(id, { up, parts: new Map() });
    return Promise.resolve(structuredClone(up));
  }

  private get(id: string) {
    const u = this.uploads.get(id);
    if (!u) throw new ApiError(404, "not_found", "");
    return u;
  }

  async show(id: string): Promise<DirectUpload> {
    this.calls.push("show");
    await tick();
    const u = this.get(id);
    const parts = [...u.parts].map(([part, bytes]) => ({ part, size: bytes.length })).sort((a, b) => a.part - b.part);
    return { ...structuredClone(u.up), parts, urls: [], urls_expire_at: null };
  }

  urls(id: string, parts: number[]): Promise<UrlList> {
    this.calls.push(`urls ${parts.join(",")}`);
    return Promise.resolve({ urls: parts.map((part) => ({ part, url: `https://s3.test/${id}/${part}` })), expires_at: "2099-01-01T00:00:00Z" });
  }

  complete(id: string): Promise<Completed> {
    this.calls.push("complete");
    const first = this.completeFirst.shift();
    if (first) return Promise.reject(first);
    const u = this.get(id);
    for (const n of this.lose.splice(0)) u.parts.delete(n);
    for (let n = 1; n <= u.up.part_count; n++) {
      if (!u.parts.has(n)) return Promise.reject(new ApiError(409, "upload_incomplete", `missing parts: ${n}`));
    }
    u.up.state = "complete";
    return Promise.resolve({ video_id: u.up.video_id, size: u.up.size, status: "queued", moderation: "approved" });
  }

  async put(url: string, body: Blob, progress: (sent: number) => void, signal: AbortSignal): Promise<void> {
    const [, , , id, part] = url.split("/");
    const n = Number(part);
    const attempt = (this.attempts.get(n) ?? 0) + 1;
    this.attempts.set(n, attempt);
    this.inFlight++;
    this.mostInFlight = Math.max(this.mostInFlight, this.inFlight);
    try {
      await tick();
      if (signal.aborted) throw new DOMException("aborted", "AbortError");
      if (this.hold) {
        await new Promise((_, fail) => signal.addEventListener("abort", () => fail(new DOMException("aborted", "AbortError"))));
      }
      const failure = this.failPut(n, attempt);
      if (failure) throw failure;
      const bytes = new Uint8Array(await body.arrayBuffer());
      progress(bytes.length);
      this.puts.push(n);
      this.get(id).parts.set(n, bytes);
    } finally {
      this.inFlight--;
    }
  }

  /** The file as storage would assemble it. */
  assembled(id: string): Uint8Array {
    const u = this.get(id);
    const all: number[] = [];
    for (let n = 1; n <= u.up.part_count; n++) all.push(...(u.parts.get(n) ?? []));
    return new Uint8Array(all);
  }
}

const bytes = (n: number) => new Uint8Array(Array.from({ length: n }, (_, i) => (i * 31 + 7) % 256));
const noWait = () => Promise.resolve();

describe("a transfer", () => {
  it("sends every part with its bytes, four at once, then completes", async () => {
    const server = new FakeServer();
    const data = bytes(53);
    const progress: number[] = [];
    let created: DirectUpload | null = null;
    const transfer = new DirectTransfer(new Blob([data]), {
      api: server,
      sleep: noWait,
      onProgress: (sent, total) => {
        expect(total).toBe(53);
        progress.push(sent);
      },
      onCreated: (up) => (created = up),
    });
    const done = await transfer.run({ size: 53, title: "T" });
    expect(done).toMatchObject({ video_id: "video-up1", resumed: false });
    expect(created).not.toBeNull();
    expect([...server.puts].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    expect(server.mostInFlight).toBe(4);
    expect(server.assembled("up1")).toEqual(data);
    // The URLs not given at creation were asked for in one batch.
    expect(server.calls.filter((c) => c.startsWith("urls"))).toEqual(["urls 3,4,5,6,7,8,9,10,11"]);
    expect(progress[0]).toBe(0);
    expect(progress.at(-1)).toBe(53);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
  });

  it("tries a failing part again after a wait, then gives up", async () => {
    const server = new FakeServer();
    server.failPut = (part, attempt) => (part === 2 && attempt < 3 ? new PutError(0, "network") : null);
    const retries: [number, number][] = [];
    const waits: number[] = [];
    const transfer = new DirectTransfer(new Blob([bytes(12)]), {
      api: server,
      backoff: [100, 200, 400],
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      onRetry: (part, attempt) => retries.push([part, attempt]),
    });
    await transfer.run({ size: 12 });
    expect(retries).toEqual([
      [2, 1],
      [2, 2],
    ]);
    expect(waits[0]).toBeGreaterThanOrEqual(75);
    expect(waits[0]).toBeLessThanOrEqual(125);
    expect(waits[1]).toBeGreaterThanOrEqual(150);

    const broken = new FakeServer();
    broken.failPut = (part) => (part === 3 ? new PutError(500, "storage down") : null);
    const failing = new DirectTransfer(new Blob([bytes(12)]), { api: broken, backoff: [1, 1], sleep: noWait });
    await expect(failing.run({ size: 12 })).rejects.toThrow("storage down");
    expect(broken.attempts.get(3)).toBe(3);
    expect(broken.calls).not.toContain("complete");

    // Storage refusing the request for good is not tried again.
    const refused = new FakeServer();
    refused.failPut = (part) => (part === 1 ? new PutError(400, "bad request") : null);
    await expect(new DirectTransfer(new Blob([bytes(12)]), { api: refused, sleep: noWait }).run({ size: 12 })).rejects.toThrow("bad request");
    expect(refused.attempts.get(1)).toBe(1);
  });

  it("asks for a fresh URL when storage refuses the signature", async () => {
    const server = new FakeServer();
    server.failPut = (part, attempt) => (part === 1 && attempt === 1 ? new PutError(403, "expired") : null);
    await new DirectTransfer(new Blob([bytes(7)]), { api: server, sleep: noWait }).run({ size: 7 });
    expect(server.calls).toContain("urls 1");
  });

  it("goes on with an earlier upload: only the parts storage lacks or holds wrong", async () => {
    const server = new FakeServer();
    const data = bytes(23);
    const up = await server.create({ size: 23 });
    const parts = server.uploads.get(up.id)!.parts;
    parts.set(1, data.slice(0, 5));
    parts.set(2, data.slice(5, 9)); // cut short
    parts.set(4, data.slice(15, 20));
    server.calls = [];
    const progress: number[] = [];
    const done = await new DirectTransfer(new Blob([data]), { api: server, sleep: noWait, onProgress: (s) => progress.push(s) }).run(
      { size: 23 },
      up.id,
    );
    expect(done.resumed).toBe(true);
    expect(done.sent.sort()).toEqual([2, 3, 5]);
    expect(server.puts.sort()).toEqual([2, 3, 5]);
    expect(server.calls[0]).toBe("show");
    expect(server.calls).not.toContain("create");
    expect(progress[0]).toBe(10);
    expect(server.assembled(up.id)).toEqual(data);
  });

  it("starts anew when the earlier upload is gone or was of another size", async () => {
    const server = new FakeServer();
    const created: string[] = [];
    const gone = await new DirectTransfer(new Blob([bytes(6)]), { api: server, sleep: noWait, onCreated: (u) => created.push(u.id) }).run(
      { size: 6 },
      "no-such-upload",
    );
    expect(gone.resumed).toBe(false);
    expect(created).toEqual(["up1"]);
    const other = await server.create({ size: 99 });
    const again = await new DirectTransfer(new Blob([bytes(6)]), { api: server, sleep: noWait }).run({ size: 6 }, other.id);
    expect(again).toMatchObject({ resumed: false, video_id: "video-up3" });
  });

  it("completes a completed upload without sending anything", async () => {
    const server = new FakeServer();
    const data = bytes(8);
    await new DirectTransfer(new Blob([data]), { api: server, sleep: noWait }).run({ size: 8 });
    server.puts = [];
    const again = await new DirectTransfer(new Blob([data]), { api: server, sleep: noWait }).run({ size: 8 }, "up1");
    expect(again).toMatchObject({ resumed: true, video_id: "video-up1", sent: [] });
    expect(server.puts).toEqual([]);
  });

  it("sends again the parts completion says are missing, and waits while it is busy", async () => {
    const server = new FakeServer();
    server.lose = [2];
    server.completeFirst = [new ApiError(423, "upload_busy", "")];
    const data = bytes(14);
    const done = await new DirectTransfer(new Blob([data]), { api: server, sleep: noWait }).run({ size: 14 });
    expect(done.video_id).toBe("video-up1");
    expect(server.calls.filter((c) => c === "complete").length).toBe(3);
    expect(server.calls).toContain("show");
    expect(server.puts.filter((p) => p === 2).length).toBe(2);
    expect(server.assembled("up1")).toEqual(data);
  });

  it("stops every request in flight when cancelled, and can go on later", async () => {
    const server = new FakeServer();
    server.hold = true;
    const data = bytes(40);
    let id = "";
    const transfer = new DirectTransfer(new Blob([data]), { api: server, sleep: noWait, onCreated: (u) => (id = u.id) });
    const run = transfer.run({ size: 40 });
    for (let i = 0; i < 5 && server.inFlight < 4; i++) await tick();
    expect(server.inFlight).toBe(4);
    transfer.abort();
    const e: unknown = await run.catch((x: unknown) => x);
    expect(isAbort(e)).toBe(true);
    expect(server.inFlight).toBe(0);
    expect(server.calls).not.toContain("complete");

    server.hold = false;
    const done = await new DirectTransfer(new Blob([data]), { api: server, sleep: noWait }).run({ size: 40 }, id);
    expect(done.resumed).toBe(true);
    expect(server.assembled(id)).toEqual(data);
  });

  it("asks again when the server could not answer for now, not when it refused", async () => {
    const server = new FakeServer();
    const create = server.create.bind(server);
    const show = server.show.bind(server);
    let creates = 0;
    server.create = (body) => (++creates === 1 ? Promise.reject(new ApiError(503, "unavailable", "storage", 0)) : create(body));
    const waits: number[] = [];
    const sleepy = (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    };
    const done = await new DirectTransfer(new Blob([bytes(6)]), { api: server, sleep: sleepy, backoff: [50, 50] }).run({ size: 6 });
    expect(done.video_id).toBe("video-up1");
    expect(creates).toBe(2);
    expect(waits).toEqual([0]); // Retry-After: 0

    let shows = 0;
    server.show = (id) => (++shows === 1 ? Promise.reject(new ApiError(502, "error", "")) : show(id));
    const resumed = await new DirectTransfer(new Blob([bytes(6)]), { api: server, sleep: sleepy, backoff: [50, 50] }).run({ size: 6 }, "up1");
    expect(resumed.resumed).toBe(true);
    expect(shows).toBe(2);

    const full = new FakeServer();
    let tries = 0;
    full.create = () => {
      tries++;
      return Promise.reject(new ApiError(429, "too_many_uploads", "finish one first"));
    };
    await expect(new DirectTransfer(new Blob([bytes(6)]), { api: full, sleep: noWait }).run({ size: 6 })).rejects.toThrow("finish one first");
    expect(tries).toBe(1);
  });

  it("tells the server's refusal as it is", async () => {
    const server = new FakeServer();
    server.create = () => Promise.reject(new ApiError(409, "direct_upload_off", "use tus"));
    const e: unknown = await new DirectTransfer(new Blob([bytes(3)]), { api: server }).run({ size: 3 }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).code).toBe("direct_upload_off");
  });
});

describe("what the browser remembers", () => {
  const file = { name: "clip.mp4", size: 123, lastModified: 1_700_000_000_000 };
  afterEach(() => localStorage.clear());

  it("is the upload's id and the fields it began with, by the file's name, size and date", () => {
    expect(recall(file)).toBeNull();
    remember(file, { id: "u1", videoId: "v1", fields: { title: "Clip", privacy: "unlisted", channel: "me" }, expiresAt: "2099-01-01T00:00:00Z" });
    expect(recall(file)).toEqual({ id: "u1", videoId: "v1", fields: { title: "Clip", privacy: "unlisted", channel: "me" }, expiresAt: "2099-01-01T00:00:00Z" });
    expect(recall({ ...file, lastModified: 1 })).toBeNull();
    expect(recall({ ...file, size: 124 })).toBeNull();
    forget(file);
    expect(recall(file)).toBeNull();
  });

  it("forgets an expired or unreadable record", () => {
    remember(file, { id: "u1", videoId: "v1", fields: {}, expiresAt: "2020-01-01T00:00:00Z" });
    expect(recall(file)).toBeNull();
    expect(localStorage.length).toBe(0);
    localStorage.setItem("kadr.direct::clip.mp4::123::1700000000000", "{not json");
    expect(recall(file)).toBeNull();
    localStorage.setItem("kadr.direct::clip.mp4::123::1700000000000", JSON.stringify({ id: 5, videoId: "v", expiresAt: "2099-01-01T00:00:00Z" }));
    expect(recall(file)).toBeNull();
  });
});

describe("the upload page", () => {
  /** XMLHttpRequest as storage answers it: every PUT taken, its bytes counted. */
  class FakeXhr {
    static puts: { url: string; size: number; headers: number }[] = [];
    static hold = false;
    static live = 0;
    upload = new EventTarget();
    status = 0;
    statusText = "";
    private events = new EventTarget();
    private url = "";
    private headers = 0;
    open(_method: string, url: string) {
      this.url = url;
    }
    setRequestHeader() {
      this.headers++;
    }
    addEventListener(type: string, fn: EventListener) {
      this.events.addEventListener(type, fn);
    }
    send(body: Blob) {
      FakeXhr.live++;
      if (FakeXhr.hold) return;
      setTimeout(() => {
        FakeXhr.live--;
        FakeXhr.puts.push({ url: this.url, size: body.size, headers: this.headers });
        const progress = new Event("progress") as Event & { loaded: number };
        progress.loaded = body.size;
        this.upload.dispatchEvent(progress);
        this.status = 200;
        this.events.dispatchEvent(new Event("load"));
      }, 0);
    }
    abort() {
      FakeXhr.live--;
      this.events.dispatchEvent(new Event("abort"));
    }
  }

  const calls: string[] = [];
  const upload: DirectUpload = {
    id: "d1",
    video_id: "v1",
    size: 12,
    part_size: 5,
    part_count: 3,
    state: "active",
    expires_at: "2099-01-01T00:00:00Z",
    parts: [],
    urls: [1, 2, 3].map((part) => ({ part, url: `http://s3.test/b/k?partNumber=${part}&X-Amz-Signature=s` })),
    urls_expire_at: "2099-01-01T00:00:00Z",
  };
  let created: unknown = null;

  const stubServer = () => {
    calls.length = 0;
    FakeXhr.puts = [];
    FakeXhr.hold = false;
    FakeXhr.live = 0;
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    vi.stubGlobal(
      "fetch",
      vi.fn((input: string, init: RequestInit = {}) => {
        const method = init.method ?? "GET";
        calls.push(`${method} ${input}`);
        const json = (body: unknown, status = 200) => Promise.resolve(Response.json(body, { status }));
        if (input === "/api/v1/me") return json({ id: "u", username: "alice", role: "user", verified: true, created_at: "2026-11-23T00:00:00Z" });
        if (input === "/api/v1/features") return json({ mail: false, direct_upload: true });
        if (input === "/api/v1/me/channels") return json({ items: [] });
        if (input === "/api/v1/uploads" && method === "OPTIONS") return Promise.resolve(new Response(null, { status: 204, headers: { "Tus-Max-Size": "1048576" } }));
        if (input === "/api/v1/direct-uploads" && method === "POST") {
          created = JSON.parse(init.body as string);
          return json(upload, 201);
        }
        if (input === "/api/v1/direct-uploads/d1" && method === "GET") {
          return json({ ...upload, urls: [], parts: FakeXhr.puts.map((p) => ({ part: Number(new URL(p.url).searchParams.get("partNumber")), size: p.size })) });
        }
        if (input === "/api/v1/direct-uploads/d1/urls" && method === "POST") {
          const { parts } = JSON.parse(init.body as string) as { parts: number[] };
          return json({ urls: upload.urls!.filter((u) => parts.includes(u.part)), expires_at: "2099-01-01T00:00:00Z" });
        }
        if (input === "/api/v1/direct-uploads/d1/complete" && method === "POST") return json({ video_id: "v1", size: 12, status: "queued", moderation: "approved" });
        if (input === "/api/v1/videos/v1") return json({ id: "v1", status: "ready", playable: true, progress: 100 });
        return Promise.reject(new Error(`unexpected request ${method} ${input}`));
      }),
    );
  };
  beforeEach(() => {
    setToken("test-token");
    stubServer();
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.restoreAllMocks();
    setToken(null);
    localStorage.clear();
  });

  const settle = async (until: () => boolean) => {
    for (let i = 0; i < 200 && !until(); i++) await new Promise((ok) => setTimeout(ok, 1));
    expect(until()).toBe(true);
  };
  const q = <T extends HTMLElement>(root: ParentNode, testid: string) => root.querySelector<T>(`[data-testid=${testid}]`)!;
  const choose = (root: HTMLElement, file: File) => {
    const input = q<HTMLInputElement>(root, "file");
    Object.defineProperty(input, "files", { value: [file], configurable: true });
    input.dispatchEvent(new Event("change"));
  };
  const file = new File([bytes(12)], "my_clip.mp4", { type: "video/mp4", lastModified: 1_700_000_000_000 });

  it("sends the parts straight to storage when the server offers it, then follows the video", async () => {
    const root = document.createElement("main");
    const cleanup = await uploadPage(root, [], new URL("http://k.test/upload"));
    choose(root, file);
    await settle(() => q<HTMLInputElement>(root, "title").value === "my clip");
    root.querySelector("form")!.requestSubmit();
    await settle(() => !!root.querySelector("[data-testid=watch-link]"));
    expect(created).toEqual({ size: 12, filename: "my_clip.mp4", title: "my clip", description: "", privacy: "public" });
    expect(FakeXhr.puts.map((p) => [new URL(p.url).searchParams.get("partNumber"), p.size, p.headers])).toEqual([
      ["1", 5, 0],
      ["2", 5, 0],
      ["3", 2, 0],
    ]);
    expect(calls).toContain("POST /api/v1/direct-uploads/d1/complete");
    expect(calls.some((c) => c.includes("/api/v1/uploads") && !c.startsWith("OPTIONS"))).toBe(false);
    expect(q(root, "video-state").textContent).toBe("Ready");
    expect(Object.keys(localStorage).filter((k) => k.startsWith("kadr.direct::"))).toEqual([]);
    if (typeof cleanup === "function") cleanup();
  });

  it("goes by tus when the server turns out not to take direct uploads", async () => {
    const fetchStub = globalThis.fetch;
    vi.stubGlobal("fetch", (input: string, init: RequestInit = {}) =>
      input === "/api/v1/direct-uploads" && init.method === "POST"
        ? Promise.resolve(Response.json({ code: "direct_upload_off", title: "This server takes uploads through tus only" }, { status: 409 }))
        : fetchStub(input, init),
    );
    const started: tus.UploadOptions[] = [];
    vi.spyOn(tus.Upload.prototype, "start").mockImplementation(function (this: tus.Upload) {
      started.push(this.options);
    });
    const root = document.createElement("main");
    const cleanup = await uploadPage(root, [], new URL("http://k.test/upload"));
    choose(root, file);
    await settle(() => q<HTMLInputElement>(root, "title").value === "my clip");
    root.querySelector("form")!.requestSubmit();
    // tus-js-client is started with the form's fields.
    await settle(() => started.length > 0);
    expect(started[0]).toMatchObject({ endpoint: "/api/v1/uploads", metadata: { filename: "my_clip.mp4", title: "my clip", privacy: "public" } });
    expect(q(root, "upload-error").hidden).toBe(true);
    expect(q(root, "cancel").hidden).toBe(false);
    if (typeof cleanup === "function") cleanup();
  });

  it("cancels the parts in flight; the file picked again goes on with the same upload", async () => {
    FakeXhr.hold = true;
    const root = document.createElement("main");
    const cleanup = await uploadPage(root, [], new URL("http://k.test/upload"));
    choose(root, file);
    await settle(() => !q<HTMLButtonElement>(root, "start").disabled);
    q<HTMLInputElement>(root, "title").value = "Mine";
    root.querySelector("form")!.requestSubmit();
    await settle(() => FakeXhr.live === 3);
    expect(q(root, "cancel").hidden).toBe(false);
    q(root, "cancel").click();
    await settle(() => q(root, "cancel").hidden);
    expect(FakeXhr.live).toBe(0);
    expect(q(root, "upload-info").textContent).toMatch(/stopped/);
    if (typeof cleanup === "function") cleanup();

    // As after a reload: the page knows the file, restores its title, sends what is missing.
    FakeXhr.hold = false;
    const again = document.createElement("main");
    const cleanup2 = await uploadPage(again, [], new URL("http://k.test/upload"));
    choose(again, file);
    await settle(() => q<HTMLInputElement>(again, "title").value === "Mine");
    expect(q(again, "upload-info").textContent).toMatch(/uploaded earlier/);
    calls.length = 0;
    again.querySelector("form")!.requestSubmit();
    await settle(() => !!again.querySelector("[data-testid=watch-link]"));
    expect(calls).toContain("GET /api/v1/direct-uploads/d1");
    expect(calls).not.toContain("POST /api/v1/direct-uploads");
    expect(FakeXhr.puts.length).toBe(3);
    if (typeof cleanup2 === "function") cleanup2();
  });
});
