// The Kadr HTTP API as the UI uses it: bearer token in localStorage, RFC 7807 errors.
import type { components, paths } from "./api-schema";
import { lang } from "./i18n";

const TOKEN_KEY = "kadr.token";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    public detail: string,
    /** Seconds to wait before trying again (`Retry-After` of a 429 or 503), when told. */
    public retryAfter: number | null = null,
    /** The request's field at fault (`field` of an `invalid_field` problem), when named. */
    public field: string | null = null,
    /** The problem's title: the server's sentence for its code, in the interface's language. */
    public title: string = "",
  ) {
    super(detail || code);
  }
}

// The API's shapes are the server's OpenAPI document's (openapi.json → api-schema.ts, made by
// `npm run gen:api`): a field the server does not send, a path it does not serve or a body it
// does not take fails the type check instead of reaching a viewer.
type Schemas = components["schemas"];
export type Video = Schemas["VideoJson"];
export type Page = Schemas["VideoPage"];
export type Playback = Schemas["Playback"];
export type Download = Schemas["DownloadJson"];
export type User = Schemas["UserView"];
export type Channel = Schemas["ChannelJson"];
export type NewVideo = Schemas["NewVideo"];
export type VideoPatch = Schemas["VideoPatch"];
export type TokenJson = Schemas["TokenJson"];
export type ChannelList = Schemas["ChannelList"];
export type ChannelPatch = Schemas["ChannelPatch"];
export type Link = Schemas["LinkJson"];
export type Comment = Schemas["CommentJson"];
export type CommentPage = Schemas["CommentPage"];
export type Notification = Schemas["NotificationJson"];
export type NotificationPage = Schemas["NotificationPage"];
export type Subscription = Schemas["SubscriptionJson"];
export type Playlist = Schemas["PlaylistJson"];
export type Me = Schemas["MeView"];
export type Session = Schemas["SessionJson"];
export type Blocked = Schemas["Blocked"];
export type AdminUser = Schemas["AdminUserView"];
export type ReportCase = Schemas["ReportCase"];
export type ReportCaseDetail = Schemas["CaseJson"];
export type LogEntry = Schemas["LogEntry"];
/** Why something is reported, as the document's enum lists it. */
export type ReportReason = Schemas["NewReport"]["reason"];
/** What can be reported. */
export type ReportTarget = Schemas["NewReport"]["target_type"];
/** A moderator's decision on a report case. */
export type Resolution = Schemas["ResolveBody"]["action"];
/** A moderator's or administrator's sanction of a user. */
export type Sanction = Schemas["SanctionBody"]["action"];
/** A role, as the document lists them. */
export type Role = Schemas["AdminUserView"]["role"];
/** An account's standing. */
export type Standing = Schemas["AdminUserView"]["standing"];
/** A viewer's rating of a video. */
export type Rating = Schemas["RatingJson"]["rating"];
/** Who may comment on a video: everyone, everyone after approval, no one. */
export type CommentPolicy = Video["comment_policy"];
/** A video's visibility, as the document's enum lists it. */
export type Privacy = Video["privacy"];
export type UrlImport = Schemas["UrlImport"];
export type ImportView = Schemas["ImportView"];
export type Batch = Schemas["BatchJson"];
export type BatchDecided = Schemas["BatchDecided"];
export type NewToken = Schemas["NewToken"];
export type MadeToken = Schemas["MadeToken"];
export type Endpoint = Schemas["EndpointJson"];
export type EndpointWithSecret = Schemas["EndpointWithSecret"];
export type NewEndpoint = Schemas["CreateBody"];
export type EndpointPatch = Schemas["PatchBody"];
export type Delivery = Schemas["DeliveryJson"];
export type DeliveryPage = Schemas["DeliveryPage"];
/** A webhook event's type, as the document's enum lists them. */
export type WebhookEventType = Delivery["event_type"];
/** A webhook delivery's state. */
export type DeliveryState = Delivery["state"];

export type Method = "get" | "post" | "put" | "patch" | "delete" | "options";

/** The document's paths (templates such as `/api/v1/videos/{id}`) that answer `M`. */
export type PathOf<M extends Method> = {
  [P in keyof paths]: paths[P][M] extends undefined ? never : P;
}[keyof paths];

type Operation<M extends Method, P extends PathOf<M>> = NonNullable<paths[P][M]>;

/** What a call sends: the path's parameters, the query and the JSON body, each required
 * when the document requires it and refused when the operation takes none. */
type Input<O> = PathInput<O> & QueryInput<O> & BodyInput<O>;
type Params<O> = O extends { parameters: infer X } ? X : never;
type PathInput<O> = Params<O> extends { path?: infer X } ? ([X] extends [undefined] ? { path?: never } : { path: X }) : never;
type QueryInput<O> = Params<O> extends { query?: infer X } ? ([X] extends [undefined] ? { query?: never } : { query?: X }) : never;
type RequestBody<O> = O extends { requestBody?: infer R } ? Exclude<R, undefined> : never;
type BodyInput<O> = [RequestBody<O>] extends [never]
  ? { body?: never }
  : RequestBody<O> extends { content: { "application/json": infer B } }
    ? O extends { requestBody: unknown }
      ? { body: B }
      : { body?: B }
    : { body?: never };

/** The arguments after the path: none when nothing is required. */
type InputArgs<O> = object extends Input<O> ? [input?: Input<O>] : [input: Input<O>];

/** The JSON of a success: `undefined` for 204, `unknown` where the document does not describe
 * the body (the caller must check what it reads). */
type Success<R> = {
  [C in keyof R]: C extends 204
    ? undefined
    : C extends 200 | 201 | 202
      ? R[C] extends { content: { "application/json": infer T } }
        ? T
        : unknown
      : never;
}[keyof R];
export type Answer<M extends Method, P extends PathOf<M>> =
  Operation<M, P> extends { responses: infer R } ? Success<R> : never;

/** `template` with its `{name}` parameters filled in (each encoded as one path segment) and
 * `query`'s set values appended. */
export function apiUrl(
  template: string,
  params: Record<string, string> = {},
  q: Record<string, string | number | null | undefined> = {},
): string {
  const path = template.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`${template}: no value for {${name}}`);
    // URLs resolve "." and ".." (encoded or not) as directories: no segment can be one.
    if (value === "" || value === "." || value === "..") throw new Error(`${template}: "${value}" is not a path segment`);
    return encodeURIComponent(value);
  });
  return path + query(q);
}

/** Calls the API: `method path` must be one the document has, with what it requires. */
export async function call<M extends Method, P extends PathOf<M>>(
  method: M,
  path: P,
  ...[input]: InputArgs<Operation<M, P>>
): Promise<Answer<M, P>> {
  // The signature checked `input` against the document; here it is only taken apart.
  const i = (input ?? {}) as { path?: Record<string, string>; query?: Record<string, string | number | undefined>; body?: unknown };
  return request<Answer<M, P>>(method.toUpperCase(), apiUrl(path, i.path, i.query), i.body);
}

/** `GET path`, typed by the document. */
export function get<P extends PathOf<"get">>(path: P, ...input: InputArgs<Operation<"get", P>>): Promise<Answer<"get", P>> {
  return call("get", path, ...input);
}

export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
  me = undefined;
}

/** A string field of a parsed JSON body, if it has one. */
export function field(body: unknown, name: string): string | undefined {
  if (typeof body !== "object" || body === null || !(name in body)) return undefined;
  const value: unknown = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : undefined;
}

/** The seconds of a `Retry-After` header (its date form is not sent by Kadr). */
export function retryAfterSecs(value: string | null): number | null {
  if (!value || !/^\d+$/.test(value.trim())) return null;
  return Number(value.trim());
}

/** The problem+json body of a failed response, or a generic error. */
async function failure(res: Response): Promise<ApiError> {
  const wait = retryAfterSecs(res.headers.get("retry-after"));
  try {
    const p: unknown = await res.json();
    return new ApiError(res.status, field(p, "code") ?? "error", field(p, "detail") ?? field(p, "title") ?? res.statusText, wait, field(p, "field") ?? null, field(p, "title") ?? "");
  } catch {
    return new ApiError(res.status, "error", res.statusText, wait);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  return (await send<T>(method, path, body)).data;
}

/** An import asked for: `created` when it is new (201, 202), not when the server answered with
 * the import its `external_id` already has (200). */
export async function importVideo(body: UrlImport): Promise<{ created: boolean; view: ImportView }> {
  const path = "/api/v1/videos/import" satisfies PathOf<"post">;
  const answer = await send<ImportView>("POST", path, body);
  return { created: answer.status !== 200, view: answer.data };
}

async function send<T>(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; data: T }> {
  // The server answers problems in the interface's language, not only the browser's.
  const headers: Record<string, string> = { accept: "application/json", "accept-language": lang() };
  const t = token();
  if (t) headers.authorization = `Bearer ${t}`;
  // A file goes as it is, under its own type; anything else as JSON.
  const raw = typeof Blob !== "undefined" && body instanceof Blob;
  if (body !== undefined) headers["content-type"] = raw ? body.type : "application/json";
  const sentAt = Date.now();
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : raw ? body : JSON.stringify(body),
  });
  // Only answers that no cache kept (the playback endpoint's) tell the server's time.
  if (res.headers.get("cache-control")?.includes("no-store")) {
    clockSkew = clockSkewMs(res.headers.get("date"), sentAt, Date.now()) ?? clockSkew;
  }
  if (res.status === 401 && t) setToken(null);
  if (!res.ok) throw await failure(res);
  // The shape of what comes back is the document's (see `call`); it is not checked here.
  // Some answers have no body (204, and a 202 such as a channel's deletion).
  if (res.status === 204) return { status: res.status, data: undefined as T };
  const text = await res.text();
  return { status: res.status, data: (text ? JSON.parse(text) : undefined) as T };
}

/** The media URLs of a video, signed for a while when it is not public. */
export const playback = (id: string): Promise<Playback> => get("/api/v1/videos/{id}/playback", { path: { id } });

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
  me ??= get("/api/v1/me").catch(() => null);
  return me;
}

/** Forgets the signed-in user's details (after a change to them): asked again next time. */
export function forgetMe(): void {
  me = undefined;
}

let features: Promise<Schemas["Features"]> | undefined;

/** What this server offers (mail), asked once. */
export function serverFeatures(): Promise<Schemas["Features"]> {
  features ??= get("/api/v1/features").catch(() => {
    features = undefined;
    return { mail: false, direct_upload: false };
  });
  return features;
}

/** A call that outlives the page (fetch with `keepalive`, so the bearer token goes as a
 * header, which `sendBeacon` cannot send): a position saved while the tab closes. */
export function callKeepalive<P extends PathOf<"put">>(path: P, params: Record<string, string>, body: unknown): void {
  const t = token();
  if (!t) return;
  void fetch(apiUrl(path, params), {
    method: "PUT",
    keepalive: true,
    headers: { authorization: `Bearer ${t}`, "content-type": "application/json", accept: "application/json" },
    body: JSON.stringify(body),
  }).catch(() => {});
}

export async function login(username: string, password: string): Promise<void> {
  const answer: TokenJson = await call("post", "/api/v1/auth/token", { body: { username, password, token_name: sessionName() } });
  // Typed by the document (TokenJson); an empty token would only sign the next request out.
  if (!answer.token) throw new ApiError(200, "error", "The server answered without a token");
  setToken(answer.token);
  // The answer names the account: no `GET /api/v1/me` to ask who signed in.
  me = Promise.resolve(answer.user);
}

/** The name a new session is given (shown in the sessions list): the browser and system. */
export function sessionName(ua: string = globalThis.navigator?.userAgent ?? ""): string {
  const browser = /Edg\//.test(ua) ? "Edge" : /Firefox\//.test(ua) ? "Firefox" : /Chrom(e|ium)\//.test(ua) ? "Chrome" : /Safari\//.test(ua) ? "Safari" : "Browser";
  const system = /Android/.test(ua) ? "Android" : /iPhone|iPad/.test(ua) ? "iOS" : /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS" : /Linux/.test(ua) ? "Linux" : "";
  return system ? `${browser}, ${system}` : browser;
}

export async function register(username: string, email: string, password: string): Promise<void> {
  await call("post", "/api/v1/users", { body: { username, email, password } });
  await login(username, password);
}

export async function logout(): Promise<void> {
  try {
    await call("delete", "/api/v1/auth/token");
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
export const isAdmin = (u: User | null) => u?.role === "admin";

/** The pictures a channel has: a square avatar and a wide banner. */
export type PictureKind = "avatar" | "banner";
/** The picture types the server takes (JPEG, PNG, WebP). */
export const PICTURE_TYPES = ["image/jpeg", "image/png", "image/webp"] as const;

/** Sends a channel's new avatar or banner: the file itself, under its own type. The worker
 * makes the sizes; the channel shows it once done. */
export function putPicture(handle: string, image: PictureKind, file: Blob): Promise<Schemas["PictureAccepted"]> {
  const path = "/api/v1/channels/{handle}/pictures/{image}" satisfies PathOf<"put">;
  return request("PUT", apiUrl(path, { handle, image }), file);
}

export type Caption = Schemas["CaptionJson"];
export type CaptionSaved = Schemas["CaptionSaved"];

/** Sends a video's captions of one language: the file itself, under its own type (`text/vtt`
 * or `application/x-subrip`), `label` naming it in the menu (the language's own name when
 * empty). The document lists `label` among the path's parameters; it is the query's. */
export function putCaptions(id: string, lang: string, label: string, file: Blob): Promise<CaptionSaved> {
  const path = "/api/v1/videos/{id}/captions/{lang}" satisfies PathOf<"put">;
  return request("PUT", apiUrl(path, { id, lang }, { label: label.trim() || null }), file);
}

export type Poster = Schemas["PosterJson"];

/** Sends a picture of the video's own for its poster: the file itself, under its own type
 * (the server reads JPEG, PNG or WebP by the bytes). The worker makes it; `GET …/poster` says
 * `pending` until then. */
export function putPoster(id: string, file: Blob): Promise<Schemas["PictureAccepted"]> {
  const path = "/api/v1/videos/{id}/poster/image" satisfies PathOf<"put">;
  return request("PUT", apiUrl(path, { id }), file);
}

let mine: { token: string | null; channels: Promise<Channel[]> } | undefined;

/** The signed-in user's channels, oldest first (asked once per token; `forgetMyChannels`
 * after a change). None when signed out. */
export function myChannels(): Promise<Channel[]> {
  const t = token();
  if (!t) return Promise.resolve([]);
  if (mine?.token !== t) {
    const channels = get("/api/v1/me/channels").then((l) => l.items);
    mine = { token: t, channels };
    channels.catch(() => {
      if (mine?.channels === channels) mine = undefined;
    });
  }
  return mine.channels;
}

export function forgetMyChannels(): void {
  mine = undefined;
}
