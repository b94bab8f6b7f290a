// The Kadr HTTP API as the UI uses it: bearer token in localStorage, RFC 7807 errors.

const TOKEN_KEY = "kadr.token";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public detail: string,
  ) {
    super(detail || code);
  }
}

export interface ChannelRef {
  id: string;
  handle: string;
  display_name: string;
}

export interface Video {
  id: string;
  title: string;
  description: string;
  tags: string[];
  privacy: "public" | "unlisted" | "private";
  status: string;
  stage?: string | null;
  progress: number;
  playable: boolean;
  failure?: { code: string; message: string } | null;
  moderation?: { state: string; reason?: string | null; decided_at?: string | null } | null;
  channel: ChannelRef;
  duration_secs?: number | null;
  width?: number | null;
  height?: number | null;
  is_short: boolean;
  views: number;
  created_at: string;
  published_at?: string | null;
  images?: { poster: string; poster_small: string; storyboard: string } | null;
}

export interface Page {
  items: Video[];
  next_cursor?: string | null;
}

export interface Playback {
  id: string;
  hls: string;
  poster?: string | null;
  poster_small?: string | null;
  storyboard?: string | null;
  expires_at?: string | null;
  live_edge: boolean;
}

export interface User {
  id: string;
  username: string;
  role: "user" | "moderator" | "admin";
  verified: boolean;
}

export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
  me = undefined;
}

/** The problem+json body of a failed response, or a generic error. */
async function failure(res: Response): Promise<ApiError> {
  try {
    const p = await res.json();
    return new ApiError(res.status, p.code ?? "error", p.detail ?? p.title ?? res.statusText);
  } catch {
    return new ApiError(res.status, "error", res.statusText);
  }
}

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const sentAt = Date.now();
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  // Only answers that no cache kept (the playback endpoint's) tell the server's time.
  if (res.headers.get("cache-control")?.includes("no-store")) {
    clockSkew = clockSkewMs(res.headers.get("date"), sentAt, Date.now()) ?? clockSkew;
  }
  if (res.status === 401 && t) setToken(null);
  if (!res.ok) throw await failure(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export const get = <T>(path: string) => request<T>("GET", path);

/** The media URLs of a video, signed for a while when it is not public. */
export const playback = (id: string) => get<Playback>(`/api/v1/videos/${encodeURIComponent(id)}/playback`);

let clockSkew = 0;

/** How far the server's clock is ahead of ours, from an answer's `Date` header (whole seconds:
 * the middle of that second is taken) and when the request left and the answer came; `null`
 * without a usable header. */
export function clockSkewMs(date: string | null, sentAt: number, receivedAt: number): number | null {
  const server = date ? Date.parse(date) : NaN;
  if (!Number.isFinite(server)) return null;
  return Math.round(server + 500 - (sentAt + receivedAt) / 2);
}

/** Now on the server's clock, which the times it sends (`expires_at`) are on: a local clock
 * hours off must not make the player renew its links in a loop or too late. */
export function serverNow(): number {
  return Date.now() + clockSkew;
}

let me: Promise<User | null> | undefined;

/** The signed-in user (asked once per token). */
export function currentUser(): Promise<User | null> {
  if (!token()) return Promise.resolve(null);
  me ??= get<User>("/api/v1/me").catch(() => null);
  return me;
}

export async function login(username: string, password: string): Promise<void> {
  const r = await request<{ token: string }>("POST", "/api/v1/auth/token", { username, password });
  setToken(r.token);
}

export async function register(username: string, email: string, password: string): Promise<void> {
  await request("POST", "/api/v1/users", { username, email, password });
  await login(username, password);
}

export async function logout(): Promise<void> {
  try {
    await request("DELETE", "/api/v1/auth/token");
  } finally {
    setToken(null);
  }
}

export function query(params: Record<string, string | number | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const isModerator = (u: User | null) => u?.role === "moderator" || u?.role === "admin";
