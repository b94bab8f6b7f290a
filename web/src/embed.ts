// The embed page (`/embed/{id}`, `/embed/playlist/{id}`; embed.html, an entry of its own): the
// player alone, filling the frame another site gives it, with the video's title over the top
// linking to its watch page here. The query: `t` start time (seconds or "1m30s"), `autoplay=1`
// (muted, as browsers require, with a "tap to unmute" button), `loop=1`, `list=` a playlist
// to go on with after the video (the next entry, in the same frame). A video that is not
// available says so in the frame.
import { ApiError, call, get, playback, type Video } from "./api";
import { videoChapters } from "./chapters";
import { h } from "./dom";
import { initLang, t } from "./i18n";
import { nextInList } from "./lists";
import { statusLine } from "./messages";
import { createPlayer, type Player } from "./player";
import { parseStart } from "./share";

/** What the embed's address asks for. */
export interface EmbedRoute {
  /** The video to start with; `null`: the playlist's first. */
  video: string | null;
  playlist: string | null;
  start: number | null;
  autoplay: boolean;
  loop: boolean;
}

const flag = (v: string | null) => v === "1" || v === "true";

/** The route of an embed address, or `null` when it is not one. */
export function embedRoute(url: URL): EmbedRoute | null {
  const q = url.searchParams;
  const common = { start: parseStart(q.get("t") ?? q.get("start")), autoplay: flag(q.get("autoplay")), loop: flag(q.get("loop")) };
  const parts = url.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== "embed") return null;
  if (parts.length === 3 && parts[1] === "playlist" && parts[2]) return { video: null, playlist: parts[2], ...common };
  if (parts.length === 2 && parts[1]) return { video: parts[1], playlist: q.get("list") || null, ...common };
  return null;
}

/** The entry after `current` in a playlist; after the last, the first again when looping. */
export function nextEntry(ids: readonly string[], current: string, loop: boolean): string | null {
  const next = nextInList(ids, current);
  if (next || !loop || !ids.includes(current)) return next;
  return ids[0] ?? null;
}

/** The address of the embed now playing `video` (kept in the frame's history on a playlist's
 * next entry, so a reload goes on from there). */
export function embedPath(video: string, route: EmbedRoute): string {
  const q = new URLSearchParams();
  if (route.playlist) q.set("list", route.playlist);
  if (route.autoplay) q.set("autoplay", "1");
  if (route.loop) q.set("loop", "1");
  const query = q.toString();
  return `/embed/${encodeURIComponent(video)}${query ? `?${query}` : ""}`;
}

/** The ids of a playlist's entries (up to 500, pages of 100). */
async function entries(id: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await get("/api/v1/playlists/{id}/videos", { path: { id }, query: { cursor, limit: 100 } });
    ids.push(...page.items.map((v) => v.id));
    cursor = page.next_cursor ?? undefined;
  } while (cursor && ids.length < 500);
  return ids;
}

function notice(root: HTMLElement, text: string): void {
  root.replaceChildren(h("p.embed-notice", { role: "alert", dataset: { testid: "notfound" } }, text));
}

async function start(root: HTMLElement, route: EmbedRoute): Promise<void> {
  let list: string[] = [];
  if (route.playlist) {
    try {
      list = await entries(route.playlist);
    } catch {
      // A playlist that cannot be read: the video alone (or nothing, without one).
    }
  }
  const first = route.video ?? list[0];
  if (!first) return notice(root, t("video.notfound"));
  let player: Player | null = null;
  const show = async (id: string, at: number | null, autoplay: boolean, muted: boolean) => {
    let v: Video;
    try {
      v = await get("/api/v1/videos/{id}", { path: { id } });
    } catch (e) {
      const gone = e instanceof ApiError && e.status === 404;
      return notice(root, gone ? t("video.notfound") : t("error.generic", { reason: (e as Error).message }));
    }
    if (!v.playable) return notice(root, statusLine(v) || t("video.notfound"));
    let pb;
    try {
      pb = await playback(id);
    } catch {
      return notice(root, t("video.notfound"));
    }
    document.title = `${v.title} – Kadr`;
    const title = h(
      "a.embed-title",
      { href: `/watch/${encodeURIComponent(id)}`, target: "_blank", rel: "noopener", dir: "auto", dataset: { testid: "embed-title" } },
      v.title,
    );
    const overlay = h("div.embed-top", {}, title, h("span.embed-channel", { dir: "auto" }, v.channel.display_name));
    const next = list.length ? nextEntry(list, id, route.loop) : null;
    player?.destroy();
    player = createPlayer(pb, {
      keyboard: true,
      start: at ?? 0,
      autoplay,
      muted,
      // In a playlist, looping is the list's (back to the first entry at the end).
      loop: route.loop && !next,
      chapters: videoChapters(v),
      overlay,
      onGone: () => notice(root, t("video.notfound")),
    });
    const video = player.video;
    const unmute = h("button.embed-unmute", { type: "button", hidden: !video.muted || !autoplay, dataset: { testid: "embed-unmute" } }, t("player.tapunmute"));
    unmute.addEventListener("click", () => {
      video.muted = false;
      if (video.volume === 0) video.volume = 1;
    });
    video.addEventListener("volumechange", () => {
      if (!video.muted) unmute.hidden = true;
    });
    player.el.append(unmute);
    root.replaceChildren(player.el);
    let counted = false;
    video.addEventListener("playing", () => {
      if (counted) return;
      counted = true;
      call("post", "/api/v1/videos/{id}/views", { path: { id } }).catch(() => {});
    });
    if (next) {
      video.addEventListener("ended", () => {
        history.replaceState(null, "", embedPath(next, route));
        // The viewer has pressed play by now: the next one goes on by itself, sound as it was.
        void show(next, null, true, video.muted);
      });
    }
  };
  await show(first, route.start, route.autoplay, route.autoplay);
}

/** A Storage kept in memory, for a frame whose storage the browser refuses. */
export class MemoryStorage implements Storage {
  private items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, String(value));
  }
}

/** Whether `localStorage` can be used: browsers that block third-party storage (Safari,
 * Firefox's strict mode, Chrome without third-party cookies) throw on any use of it inside
 * another site's frame, which is where the embed lives. */
export function storageUsable(): boolean {
  try {
    localStorage.getItem("kadr.lang");
    return true;
  } catch {
    return false;
  }
}

const root = typeof document === "undefined" ? null : document.getElementById("embed");
if (root) {
  // The app's modules read the token, the language and the player's preferences from
  // localStorage; refused, they get a store that lasts as long as the frame.
  if (!storageUsable()) Object.defineProperty(window, "localStorage", { configurable: true, value: new MemoryStorage() });
  // The viewer's language (and with it the page's direction), as in the app.
  initLang();
  const route = embedRoute(new URL(location.href));
  if (!route) notice(root, t("video.notfound"));
  else void start(root, route);
}
