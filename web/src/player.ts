// The player of the watch page, the embed and the moderation queue (and, without controls, of
// the shorts feed): hls.js on a <video>, with our own controls. Play, a seek bar with chapter
// segments and storyboard thumbnails on hover, time and the chapter playing, mute and volume
// (remembered), subtitles (the master playlist's SUBTITLES group; the language chosen is
// remembered and taken again on the next video that has it), speed, quality (automatic with
// the rung playing shown, a chosen rung, or the sound alone: the master's audio-only variant,
// which hls.js leaves out, loaded as a source of its own where the viewer was), theatre mode
// (where the page offers it), picture in picture, full screen, YouTube's keyboard shortcuts
// with a help overlay, and double taps on either side to seek on touch screens. Every control
// is a real button or slider with a label in the viewer's language, reachable by Tab, its menus
// by arrow keys and Escape; under `dir="rtl"` the controls mirror but the seek bar does not
// (time runs left to right).
//
// Links run out: the links of a video that is not public are signed and expire (or are
// revoked by a privacy or moderation change): the player asks for fresh ones before they
// expire and when the media server refuses them (renew.ts), and goes on with them where it
// was. A network that goes away is waited for: hls.js's fatal network errors are retried with
// growing pauses (at once when the browser says it is back online) while the player says it is
// reconnecting; only then does it show the failure notice with its "try again".
//
// The full hls.js build (not hls.js/light): the light one has no subtitles.
import Hls, { type ErrorData } from "hls.js";
import "./player.css";
import { playback, serverNow, type Playback } from "./api";
import { normalizeChapters, chapterAt, playedShare, type Chapter, type ChapterJson } from "./chapters";
import { h } from "./dom";
import { formatDuration } from "./format";
import { icons } from "./icons";
import { t, type Key } from "./i18n";
import { AUDIO_ONLY, audioOnlyInMaster, audioOnlyVariant, qualityLabel, qualityOptions, type Level } from "./quality";
import { LinkRenewer, linksRefused } from "./renew";
import { parseStoryboard, thumbAt, type Thumb } from "./storyboard";

export interface Player {
  el: HTMLElement;
  video: HTMLVideoElement;
  /** Goes to `secs` (during a switch to fresh links, where it resumes). */
  seek(secs: number): void;
  destroy(): void;
}

export interface PlayerOptions {
  autoplay?: boolean;
  /** Starts muted (else as the viewer left it last time). */
  muted?: boolean;
  loop?: boolean;
  /** No controls of our own (the shorts feed). */
  bare?: boolean;
  /** Keyboard shortcuts on the whole document (else while focus is inside the player). */
  keyboard?: boolean;
  /** Where to start, in seconds (a `?t=`, or where the viewer stopped last time). */
  start?: number;
  /** The video's chapters (the video object's `chapters`). */
  chapters?: readonly ChapterJson[];
  /** Theatre mode is the page's layout: with this the player shows its button (and `t`),
   * starting as `theatre` says. */
  onTheatre?: (on: boolean) => void;
  theatre?: boolean;
  /** Shown over the top of the picture with the controls (the embed's title). */
  overlay?: HTMLElement;
  /** Asked for fresh links, the playback endpoint answered 404: the video was deleted or is
   * no longer visible to this viewer. The media has been stopped; without this the player
   * shows the "not available" notice in its place. */
  onGone?: () => void;
}

// ---- What can be worked out without a player (unit-tested) ----

/** The speeds offered, YouTube's. */
export const SPEEDS = [0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2] as const;

/** The next speed of the list after (`dir` 1) or before (-1) `rate`; at the ends it stays. A
 * rate between two of the list goes to the neighbour in that direction. */
export function stepSpeed(rate: number, dir: 1 | -1): number {
  if (dir > 0) return SPEEDS.find((s) => s > rate + 1e-9) ?? SPEEDS[SPEEDS.length - 1];
  return [...SPEEDS].reverse().find((s) => s < rate - 1e-9) ?? SPEEDS[0];
}

/** A speed as the menu shows it: the normal one by name, the others as "1.5×". */
export function speedLabel(rate: number, normal: string): string {
  return rate === 1 ? normal : `${rate}×`;
}

/** What a key does. */
export type KeyAction =
  | { do: "toggle" }
  | { do: "seekBy"; secs: number }
  | { do: "seekTo"; share: number }
  | { do: "volumeBy"; by: number }
  | { do: "mute" }
  | { do: "fullscreen" }
  | { do: "theatre" }
  | { do: "pip" }
  | { do: "captions" }
  | { do: "speed"; dir: 1 | -1 }
  | { do: "help" }
  | { do: "escape" };

/** YouTube's shortcuts: `key` is KeyboardEvent.key (letters in either case, so Caps Lock does
 * not turn them off). Left and right stay back and forward in a right-to-left page: the seek
 * bar does not mirror. */
export function keyAction(key: string): KeyAction | null {
  if (/^[0-9]$/.test(key)) return { do: "seekTo", share: Number(key) / 10 };
  switch (key.length === 1 ? key.toLowerCase() : key) {
    case " ":
    case "k":
      return { do: "toggle" };
    case "j":
      return { do: "seekBy", secs: -10 };
    case "l":
      return { do: "seekBy", secs: 10 };
    case "ArrowLeft":
      return { do: "seekBy", secs: -5 };
    case "ArrowRight":
      return { do: "seekBy", secs: 5 };
    case "ArrowUp":
      return { do: "volumeBy", by: 0.05 };
    case "ArrowDown":
      return { do: "volumeBy", by: -0.05 };
    case "Home":
      return { do: "seekTo", share: 0 };
    case "End":
      return { do: "seekTo", share: 1 };
    case "m":
      return { do: "mute" };
    case "f":
      return { do: "fullscreen" };
    case "t":
      return { do: "theatre" };
    case "i":
      return { do: "pip" };
    case "c":
      return { do: "captions" };
    case "<":
      return { do: "speed", dir: -1 };
    case ">":
      return { do: "speed", dir: 1 };
    case "?":
      return { do: "help" };
    case "Escape":
      return { do: "escape" };
    default:
      return null;
  }
}

/** The help overlay's rows: the keys and what they do. */
export const SHORTCUTS: { keys: string[]; what: Key }[] = [
  { keys: ["K", "Space"], what: "keys.playpause" },
  { keys: ["J"], what: "keys.back10" },
  { keys: ["L"], what: "keys.forward10" },
  { keys: ["←"], what: "keys.back5" },
  { keys: ["→"], what: "keys.forward5" },
  { keys: ["↑"], what: "keys.volumeup" },
  { keys: ["↓"], what: "keys.volumedown" },
  { keys: ["M"], what: "keys.mute" },
  { keys: ["F"], what: "keys.fullscreen" },
  { keys: ["T"], what: "keys.theatre" },
  { keys: ["I"], what: "keys.pip" },
  { keys: ["C"], what: "keys.captions" },
  { keys: ["<"], what: "keys.slower" },
  { keys: [">"], what: "keys.faster" },
  { keys: ["0–9"], what: "keys.percent" },
  { keys: ["?"], what: "keys.help" },
  { keys: ["Esc"], what: "keys.escape" },
];

/** How many times a fatal network error is retried while the browser says it is online. */
export const RECONNECT_TRIES = 6;

/** The pause before retry `attempt` (0, 1, …): 1, 2, 4, 8, 16, then 30 s. */
export function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.max(0, attempt));
}

/** A subtitle track as the menu lists it. */
export interface CaptionTrack {
  lang: string;
  label: string;
}

/** The primary language of a tag ("pt-BR" → "pt"). */
const primary = (tag: string) => tag.trim().toLowerCase().split(/[-_]/)[0];

/** The track to show for the remembered choice `pref` (a language tag, "off" or nothing): the
 * one of that exact language, else of the same primary language; -1 (off) when the viewer
 * never turned subtitles on, turned them off, or this video lacks the language. */
export function pickCaption(tracks: readonly CaptionTrack[], pref: string | null): number {
  if (!pref || pref === "off") return -1;
  const exact = tracks.findIndex((tr) => tr.lang.toLowerCase() === pref.toLowerCase());
  if (exact >= 0) return exact;
  return tracks.findIndex((tr) => tr.lang !== "" && primary(tr.lang) === primary(pref));
}

/** Preferences the player remembers. */
export const PREFS = {
  volume: "kadr.player.volume",
  muted: "kadr.player.muted",
  captions: "kadr.player.captions",
  theatre: "kadr.player.theatre",
} as const;

/** A remembered preference; storage may be refused (a sandboxed or third-party frame). */
export function readPref(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

export function writePref(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Not remembered: nothing else changes.
  }
}

/** A remembered volume (0 to 1), or `null` when none was or it is not one. */
export function storedVolume(value: string | null): number | null {
  if (value === null || value.trim() === "") return null;
  const v = Number(value);
  return Number.isFinite(v) && v >= 0 && v <= 1 ? v : null;
}

/** Whether the page was left in theatre mode. */
export const theatrePref = (): boolean => readPref(PREFS.theatre) === "1";

// ---- The player ----

/** Where a switch to fresh links resumes, and what it keeps of the old source. */
interface Resume {
  position: number;
  paused: boolean;
  /** The rung the viewer chose (-1: automatic) and the one being loaded. */
  manual: number;
  loading: number;
  rate: number;
  duration: number;
}

/** What the viewer sees of the playback: during a switch to fresh links, the position and
 * state it resumes with rather than the reloading element's. */
interface View {
  time: () => number;
  duration: () => number;
  paused: () => boolean;
  toggle: () => void;
  seek: (to: number) => void;
  /** The viewer picked a rung (-1: automatic, AUDIO_ONLY: the sound alone). */
  choose: (level: number) => void;
  /** The sound alone: whether it is what plays, whether the master offers it, and the master's
   * rungs (while it plays, hls.js's own list is the audio playlist's one level). */
  audioOnly: () => { playing: boolean; offered: boolean; rungs: Level[] };
  rate: (r: number) => void;
}

/** Subtitles, from hls.js or from the browser's own HLS (its text tracks). */
interface Captions {
  tracks(): CaptionTrack[];
  /** The track showing, -1 for none. */
  current(): number;
  select(i: number): void;
}

export function createPlayer(first: Playback, opts: PlayerOptions = {}): Player {
  let pb = first;
  const video = h("video", {
    playsInline: true,
    preload: "metadata",
    poster: pb.poster ?? undefined,
    loop: !!opts.loop,
    autoplay: !!opts.autoplay,
  });
  // The viewer's volume; muted as asked, else as left last time (the shorts feed and the
  // autoplaying embed decide for themselves).
  const volume = storedVolume(readPref(PREFS.volume));
  if (volume !== null) video.volume = volume;
  video.muted = opts.muted ?? (!opts.bare && readPref(PREFS.muted) === "1");
  const retry = h("button.player-retry", { type: "button" }, t("player.retry"));
  const failed = h(
    "div.player-failed",
    { hidden: true, role: "alert", dataset: { testid: "player-failed" } },
    h("p", {}, t("player.failed")),
    retry,
  );
  // Over the picture while the sound alone plays: the element would go on showing the last
  // frame it had, which no longer moves.
  const coverPicture = h("img.player-audio-poster", { alt: "" });
  const audioCover = h(
    "div.player-audio",
    { hidden: true, dataset: { testid: "player-audio" } },
    coverPicture,
    h("span.player-audio-label", {}, t("player.audioonly")),
  );
  const el = h(
    "div.player",
    { tabIndex: 0, role: "region", "aria-label": t("player.label"), dataset: { testid: "player" } },
    video,
    audioCover,
    failed,
  );
  // Loading starts on MANIFEST_PARSED below: at 0, or where a switch to fresh links resumes.
  const hls = Hls.isSupported()
    ? new Hls({ startPosition: 0, autoStartLoad: false, capLevelToPlayerSize: false, maxBufferLength: 30 })
    : null;
  let resume: Resume | null = null;
  // The rung the viewer chose in the menu (-1: automatic). Kept here: hls.js drops a manual
  // choice when that rung's requests fail, as they all do once the links are refused.
  let chosen = -1;
  // The sound alone (the master's audio-only variant, loaded as a playlist of its own: hls.js
  // leaves it out of a master with video, since one MediaSource cannot go from sound and
  // picture to sound alone). `audioUrl` comes with the master the links are for; `rungs` and
  // `videoLevel` are the master's, for the menu and the way back.
  let audio = false;
  let audioUrl: string | null = null;
  let rungs: Level[] = [];
  let videoLevel = -1;
  /** Shows the cover while the sound alone plays (and until the picture is back). */
  const cover = () => {
    audioCover.hidden = !audio;
    if (!audio) return;
    if (pb.poster) coverPicture.src = pb.poster;
    else coverPicture.removeAttribute("src");
    coverPicture.hidden = !pb.poster;
  };
  // Whether the video was paused when loading failed for good (it is paused then): "try
  // again" restores that.
  let pausedOnFailure: boolean | null = null;
  let ui: Controls | null = null;
  const play = () => void video.play().catch(() => {});
  const setPoster = (url: string | null | undefined) => {
    if (url) video.poster = url;
    else video.removeAttribute("poster");
  };
  // The switch is over once the element is back where it was.
  const settle = () => {
    if (!resume || Math.abs(video.currentTime - resume.position) > 1) return;
    resume = null;
    setPoster(pb.poster);
    cover();
    ui?.render();
  };
  for (const ev of ["seeked", "canplay", "playing"]) video.addEventListener(ev, settle);

  /** Goes on with `next`; `reload` when the old links were refused (load again even if the
   * URL is the same). */
  const update = (next: Playback, reload = false) => {
    const prev = pb;
    pb = next;
    failed.hidden = true;
    if (next.storyboard !== prev.storyboard) ui?.storyboard(next.storyboard);
    if (next.hls === prev.hls && !reload) {
      if (!resume) setPoster(next.poster);
      return;
    }
    // A switch still under way keeps what it was resuming.
    const manual = resume?.manual ?? chosen;
    const loading = resume?.loading ?? (audio ? videoLevel : (hls?.loadLevel ?? -1));
    if (!audio || !hls) return load(next.hls, manual, loading);
    // Playing the sound alone: its playlist with the fresh links, read from the fresh master
    // (the picture again if that cannot be had).
    const fallback = () => {
      audio = false;
      load(next.hls, chosen, videoLevel);
      cover();
    };
    fetch(next.hls)
      .then((r) => (r.ok ? r.text() : ""))
      .then((text) => {
        if (pb !== next || !audio) return;
        const url = text ? audioOnlyInMaster(text, next.hls) : null;
        audioUrl = url;
        if (url) load(url, -1, -1);
        else fallback();
      })
      .catch(() => {
        if (pb === next && audio) fallback();
      });
  };
  /** Loads `url` (a master, or the audio-only playlist) where the viewer is, with `manual` the
   * rung to hold (-1: automatic) and `loading` the rung to start from. */
  const load = (url: string, manual: number, loading: number) => {
    resume = {
      position: resume?.position ?? video.currentTime,
      paused: resume?.paused ?? pausedOnFailure ?? video.paused,
      manual,
      loading,
      rate: resume?.rate ?? video.playbackRate,
      duration: resume?.duration ?? video.duration,
    };
    pausedOnFailure = null;
    // Mid-video, no flash of the title picture while the new source loads.
    if (resume.position > 0 || !resume.paused) video.removeAttribute("poster");
    else setPoster(pb.poster);
    if (hls) hls.loadSource(url);
    else video.src = url;
  };

  const view: View = {
    time: () => resume?.position ?? video.currentTime,
    duration: () => {
      const d = resume?.duration ?? video.duration;
      return Number.isFinite(d) ? d : 0;
    },
    paused: () => !failed.hidden || (resume?.paused ?? video.paused),
    toggle: () => {
      if (!failed.hidden) return;
      if (resume) {
        resume.paused = !resume.paused;
        if (resume.paused) video.pause();
        else play();
      } else if (video.paused) play();
      else video.pause();
    },
    seek: (to: number) => {
      if (resume) {
        // Resume there instead; once the new source's variants are known, load from there.
        resume.position = to;
        if (hls?.levels.length) hls.startLoad(to);
      }
      video.currentTime = to;
    },
    choose: (level: number) => {
      if (!hls) return;
      if (level === AUDIO_ONLY) {
        if (audio || !audioUrl) return;
        audio = true;
        videoLevel = hls.loadLevel;
        cover();
        return load(audioUrl, -1, -1);
      }
      chosen = level;
      if (audio) {
        // Back to the picture, at the rung chosen (automatic: the one it had reached).
        audio = false;
        return load(pb.hls, level, level >= 0 ? level : videoLevel);
      }
      if (resume) resume.manual = level;
      if (!resume || hls.levels.length) hls.currentLevel = level;
    },
    audioOnly: () => ({ playing: audio, offered: !!audioUrl, rungs }),
    rate: (r: number) => {
      if (resume) resume.rate = r;
      video.playbackRate = r;
    },
  };
  const stopMedia = () => {
    hls?.stopLoad();
    video.pause();
  };

  // ---- Network loss: retried with growing pauses, at once when the browser is back online.
  let attempts = 0;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  /** What the next retry does: reload the manifest, or go on loading. */
  let retryLoad: (() => void) | null = null;
  const clearReconnect = () => {
    if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    retryLoad = null;
  };
  const giveUp = () => {
    clearReconnect();
    attempts = 0;
    ui?.reconnecting(false);
    pausedOnFailure = view.paused();
    stopMedia();
    failed.hidden = false;
    ui?.render();
  };
  const runRetry = () => {
    reconnectTimer = undefined;
    const go = retryLoad;
    retryLoad = null;
    go?.();
  };
  const reconnect = (load: () => void) => {
    if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
    retryLoad = load;
    ui?.reconnecting(true);
    // Offline, the browser's word is waited for (the `online` event), with a look now and then
    // in case it is wrong; the tries are counted only while it says it is online.
    if (navigator.onLine === false) {
      reconnectTimer = setTimeout(runRetry, 15_000);
      return;
    }
    if (attempts >= RECONNECT_TRIES) return giveUp();
    reconnectTimer = setTimeout(runRetry, backoffMs(attempts++));
  };
  const reconnected = () => {
    if (attempts === 0 && !retryLoad) return;
    attempts = 0;
    clearReconnect();
    ui?.reconnecting(false);
  };

  const links = new LinkRenewer(pb, {
    fetch: () => playback(pb.id),
    apply: update,
    now: serverNow,
    gone: () => {
      clearReconnect();
      stopMedia();
      if (opts.onGone) opts.onGone();
      else el.replaceChildren(h("p.notice", { dataset: { testid: "notfound" } }, t("video.notfound")));
    },
    failed: giveUp,
  });
  retry.addEventListener("click", (e) => {
    e.stopPropagation();
    failed.hidden = true;
    attempts = 0;
    links.retry();
  });
  // Timers lag in background tabs and stop while the machine sleeps.
  const wake = () => {
    if (document.visibilityState === "visible") links.wake();
  };
  const online = () => {
    links.wake();
    if (retryLoad) {
      if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
      runRetry();
    }
  };
  document.addEventListener("visibilitychange", wake);
  addEventListener("online", online);

  let captions: Captions | null = null;
  let mediaErrorAt = -Infinity;
  if (hls) {
    // The master's audio-only variant (hls.js lists every variant here, before it leaves that
    // one out) and its rungs; the audio playlist, loaded on its own, has neither.
    hls.on(Hls.Events.MANIFEST_LOADED, (_event, data) => {
      if (!audio) audioUrl = audioOnlyVariant(data.levels);
    });
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      if (!audio) rungs = hls.levels.map((l) => ({ height: l.height, width: l.width, bitrate: l.bitrate }));
      const r = resume;
      if (r) {
        const n = hls.levels.length;
        // The viewer's chosen rung stays; automatic goes on from the rung it had reached.
        if (r.manual >= 0 && r.manual < n) hls.loadLevel = r.manual;
        else if (r.loading >= 0 && r.loading < n) hls.startLevel = r.loading;
        video.playbackRate = r.rate;
      }
      hls.startLoad(r ? r.position : (opts.start ?? 0));
      if (r && !r.paused) play();
    });
    hls.on(Hls.Events.FRAG_LOADED, () => {
      links.loaded();
      reconnected();
    });
    hls.on(Hls.Events.ERROR, (_event, data: ErrorData) => {
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && linksRefused(data.response?.code, !!pb.expires_at)) {
        links.refused();
        return;
      }
      if (!data.fatal) return;
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) {
        // Without a manifest there is nothing to go on loading: load the source again.
        const manifest = /^manifest/i.test(data.details);
        reconnect(manifest ? () => update(pb, true) : () => hls.startLoad(video.currentTime));
      } else if (data.type === Hls.ErrorTypes.MEDIA_ERROR && performance.now() - mediaErrorAt > 10_000) {
        // hls.js's advice: recover once; a second failure soon after is for good.
        mediaErrorAt = performance.now();
        hls.recoverMediaError();
      } else giveUp();
    });
    captions = {
      tracks: () => hls.subtitleTracks.map((tr) => ({ lang: tr.lang ?? "", label: tr.name || tr.lang || "?" })),
      current: () => (hls.subtitleDisplay ? hls.subtitleTrack : -1),
      select: (i) => {
        hls.subtitleTrack = i;
        hls.subtitleDisplay = i >= 0;
      },
    };
    // The remembered language, on every video that has it: after hls.js has made its own
    // choice (from the playlist's DEFAULT flags), which comes right after this event.
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, () => {
      setTimeout(() => {
        if (captions && hls.media) captions.select(pickCaption(captions.tracks(), readPref(PREFS.captions)));
      }, 0);
    });
    hls.loadSource(pb.hls);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    // Safari's own HLS (iOS has no MSE): the browser picks the rung (no quality menu); its
    // subtitles are the element's text tracks. This path cannot be tested here (Chromium has
    // MSE, so the hls.js path is always taken); it is kept small for that reason.
    let started = false;
    video.addEventListener("loadedmetadata", () => {
      if (!resume && !started && opts.start) video.currentTime = opts.start;
      started = true;
      if (!resume) return;
      video.currentTime = resume.position;
      video.playbackRate = resume.rate;
      if (!resume.paused) play();
    });
    video.addEventListener("canplay", () => links.loaded());
    // Safari's own HLS tells no HTTP status: a network or source error may be refused links.
    video.addEventListener("error", () => {
      const code = video.error?.code;
      if (code === MediaError.MEDIA_ERR_NETWORK || code === MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED) links.refused();
    });
    const textTracks = () => [...video.textTracks].filter((tr) => tr.kind === "subtitles" || tr.kind === "captions");
    captions = {
      tracks: () => textTracks().map((tr) => ({ lang: tr.language, label: tr.label || tr.language || "?" })),
      current: () => textTracks().findIndex((tr) => tr.mode === "showing"),
      select: (i) => textTracks().forEach((tr, j) => (tr.mode = i === j ? "showing" : "disabled")),
    };
    video.textTracks.addEventListener("addtrack", () => {
      if (captions) captions.select(pickCaption(captions.tracks(), readPref(PREFS.captions)));
    });
    video.src = pb.hls;
  }

  if (!opts.bare) ui = controls(el, video, hls, view, captions, pb.storyboard, opts);
  return {
    el,
    video,
    seek: (secs) => view.seek(secs),
    destroy() {
      links.stop();
      clearReconnect();
      document.removeEventListener("visibilitychange", wake);
      removeEventListener("online", online);
      ui?.destroy();
      hls?.destroy();
      video.removeAttribute("src");
      video.load();
    },
  };
}

// ---- Controls ----

interface Controls {
  render(): void;
  /** Thumbnails from another storyboard (fresh links). */
  storyboard(url: string | null | undefined): void;
  /** Shows or hides the "reconnecting" state. */
  reconnecting(on: boolean): void;
  destroy(): void;
}

const glyph = (path: string) => `<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" fill="currentColor">${path}</svg>`;

/** The player's icons: the shared ones and a few only it uses. */
const glyphs = {
  ...icons,
  fullscreenExit: glyph('<path d="M5 16h3v3h2v-5H5zm3-8H5v2h5V5H8zm6 11h2v-3h3v-2h-5zm2-11V5h-2v5h5V8z"/>'),
  captions: glyph(
    '<path d="M19 4H5a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2zm-8 7H9.5v-.5h-2v3h2V13H11v1a1 1 0 0 1-1 1H7a1 1 0 0 1-1-1v-4a1 1 0 0 1 1-1h3a1 1 0 0 1 1 1zm7 0h-1.5v-.5h-2v3h2V13H18v1a1 1 0 0 1-1 1h-3a1 1 0 0 1-1-1v-4a1 1 0 0 1 1-1h3a1 1 0 0 1 1 1z"/>',
  ),
  pip: glyph('<path d="M19 11h-8v6h8zm4 8V5a2 2 0 0 0-2-2H3a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h18a2 2 0 0 0 2-2zm-2 0H3V5h18z"/>'),
  theatre: glyph('<path fill-rule="evenodd" d="M2 6h20v12H2zm2 2v8h16V8z"/>'),
  theatreExit: glyph('<path fill-rule="evenodd" d="M5 7h14v10H5zm2 2v6h10V9z"/>'),
};

/** Sets a button's icon (one of ours, never user text). */
function setGlyph(el: HTMLElement, name: keyof typeof glyphs): void {
  if (el.dataset.icon !== name) {
    el.innerHTML = glyphs[name];
    el.dataset.icon = name;
  }
}

/** A menu button and its list of choices (role menu, items menuitemradio): arrows, Home and
 * End move between the items, Escape and Tab close it, a choice closes it and focus goes back
 * to the button. */
interface Menu {
  wrap: HTMLElement;
  button: HTMLButtonElement;
  list: HTMLElement;
  open(): void;
  close(focusButton?: boolean): void;
  isOpen(): boolean;
  /** Replaces the items: `[label, checked, choose]`. */
  set(items: { label: string; checked: boolean; choose: () => void; data?: Record<string, string> }[]): void;
}

function menu(name: string, label: string, itemClass: string, onOpen: (m: Menu) => void): Menu {
  const button = h(`button.ctl.${name}`, { type: "button", "aria-haspopup": "menu", "aria-expanded": "false", "aria-label": label, title: label });
  const list = h(`div.player-menu.${name}-menu`, { role: "menu", "aria-label": label, hidden: true });
  const wrap = h(`div.menu-wrap.${name}-wrap`, {}, button, list);
  const items = () => [...list.querySelectorAll<HTMLElement>("[role=menuitemradio]")];
  const m: Menu = {
    wrap,
    button,
    list,
    open() {
      onOpen(m);
      list.hidden = false;
      button.setAttribute("aria-expanded", "true");
      const all = items();
      (all.find((i) => i.getAttribute("aria-checked") === "true") ?? all[0])?.focus();
    },
    close(focusButton = false) {
      if (list.hidden) return;
      list.hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (focusButton) button.focus();
    },
    isOpen: () => !list.hidden,
    set(entries) {
      list.replaceChildren(
        ...entries.map((e) =>
          h(
            `button.menu-item.${itemClass}`,
            {
              type: "button",
              role: "menuitemradio",
              "aria-checked": String(e.checked),
              tabIndex: -1,
              dataset: e.data ?? {},
              onclick: () => {
                e.choose();
                m.close(true);
              },
            },
            e.label,
          ),
        ),
      );
    },
  };
  button.addEventListener("click", () => (m.isOpen() ? m.close() : m.open()));
  list.addEventListener("keydown", (e) => {
    const all = items();
    const at = all.indexOf(document.activeElement as HTMLElement);
    let to: number | null = null;
    switch (e.key) {
      case "ArrowDown":
        to = (at + 1) % all.length;
        break;
      case "ArrowUp":
        to = (at - 1 + all.length) % all.length;
        break;
      case "Home":
        to = 0;
        break;
      case "End":
        to = all.length - 1;
        break;
      case "Escape":
        m.close(true);
        break;
      case "Tab":
        m.close();
        return;
      default:
        return;
    }
    e.preventDefault();
    e.stopPropagation();
    if (to !== null) all[to]?.focus();
  });
  return m;
}

function controls(
  root: HTMLElement,
  video: HTMLVideoElement,
  hls: Hls | null,
  view: View,
  captions: Captions | null,
  storyboard: string | null | undefined,
  opts: PlayerOptions,
): Controls {
  let chapters: Chapter[] = [];
  const play = h("button.ctl.play", { type: "button", "aria-label": t("player.play") });
  // The seek bar: our own track (a segment per chapter, each with what is buffered and what
  // has played) under a transparent range input that takes the pointer and the keys.
  const track = h("div.seek-track");
  const seek = h("input.seek", { type: "range", min: "0", max: "0", step: "0.1", value: "0", "aria-label": t("player.seek") });
  const preview = h("div.preview", { hidden: true }, h("div.preview-img"), h("span.preview-chapter"), h("span.preview-time"));
  const time = h("span.time", { dataset: { testid: "player-time" } }, h("span.time-now", { dir: "ltr" }, "0:00 / 0:00"), h("span.time-chapter", { dir: "auto" }));
  const mute = h("button.ctl.mute", { type: "button", "aria-label": t("player.mute") });
  const volume = h("input.volume", { type: "range", min: "0", max: "1", step: "0.05", value: String(video.volume), "aria-label": t("player.volume") });
  const full = h("button.ctl.full", { type: "button", "aria-label": t("player.fullscreen"), title: t("player.fullscreen") });
  setGlyph(full, "fullscreen");
  const pipAllowed = typeof document.pictureInPictureEnabled === "boolean" && document.pictureInPictureEnabled;
  const pip = pipAllowed ? h("button.ctl.pip", { type: "button", "aria-label": t("player.pip"), title: t("player.pip") }) : null;
  if (pip) setGlyph(pip, "pip");
  let theatre = !!opts.theatre;
  const theatreButton = opts.onTheatre ? h("button.ctl.theatre", { type: "button", dataset: { testid: "theatre" } }) : null;
  const status = h("div.player-status", { role: "status", dataset: { testid: "player-status" } });
  const ripple = h("div.player-ripple", { hidden: true, "aria-hidden": "true" });
  const bigPlay = h("div.player-bigplay", { "aria-hidden": "true" }, h("span", {}));
  bigPlay.firstElementChild!.innerHTML = glyphs.play;

  const captionMenu = menu("captions", t("player.captions"), "caption-item", () => renderCaptions());
  setGlyph(captionMenu.button, "captions");
  const speedMenu = menu("speed", t("player.speed"), "speed-item", () => renderSpeed());
  const qualityMenu = menu("quality", t("player.quality"), "quality-item", () => renderQuality());
  qualityMenu.button.textContent = t("player.auto");
  const menus = [captionMenu, speedMenu, qualityMenu];

  const help = helpOverlay(() => closeHelp());
  const bar = h(
    "div.controls",
    {},
    h("div.seek-wrap", { dir: "ltr" }, track, seek, preview),
    h(
      "div.controls-row",
      {},
      play,
      h("div.volume-wrap", {}, mute, volume),
      time,
      h("span.controls-gap"),
      captionMenu.wrap,
      speedMenu.wrap,
      qualityMenu.wrap,
      theatreButton,
      pip,
      full,
    ),
  );
  if (opts.overlay) root.append(h("div.player-top", {}, opts.overlay));
  root.append(bigPlay, ripple, status, bar, help.el);

  const toggle = view.toggle;
  let started = false;
  let reconnecting = false;
  let buffering = false;

  // ---- Rendering
  const renderTrack = () => {
    const d = view.duration();
    const parts: Chapter[] = chapters.length ? chapters : [{ start: 0, end: d, title: "" }];
    if (track.childElementCount !== parts.length) {
      track.replaceChildren(
        ...parts.map(() => h("div.seek-seg", {}, h("div.seek-buffered"), h("div.seek-played"))),
      );
    }
    const at = view.time();
    // What is buffered ahead of the position.
    let loaded = at;
    for (let i = 0; i < video.buffered.length; i++) {
      if (video.buffered.start(i) <= at + 0.5 && video.buffered.end(i) > loaded) loaded = video.buffered.end(i);
    }
    parts.forEach((c, i) => {
      const seg = track.children[i] as HTMLElement;
      const len = Math.max(0, (c.end || d) - c.start);
      seg.style.flexGrow = String(d > 0 ? len : 1);
      const chapter = { ...c, end: c.end || d };
      (seg.firstElementChild as HTMLElement).style.width = `${playedShare(chapter, loaded) * 100}%`;
      (seg.lastElementChild as HTMLElement).style.width = `${playedShare(chapter, at) * 100}%`;
    });
  };
  const renderStatus = () => {
    root.classList.toggle("is-reconnecting", reconnecting);
    root.classList.toggle("is-buffering", buffering && !reconnecting);
    status.textContent = reconnecting ? t("player.reconnecting") : "";
  };
  const render = () => {
    const paused = view.paused();
    setGlyph(play, paused ? "play" : "pause");
    play.setAttribute("aria-label", paused ? t("player.play") : t("player.pause"));
    root.classList.toggle("is-paused", paused);
    bigPlay.hidden = started || !paused;
    const d = view.duration();
    const at = view.time();
    seek.max = String(d);
    if (document.activeElement !== seek) seek.value = String(at);
    seek.setAttribute("aria-valuetext", t("player.timeof", { time: formatDuration(at), duration: formatDuration(d) }));
    (time.firstElementChild as HTMLElement).textContent = `${formatDuration(at)} / ${formatDuration(d)}`;
    const chapter = chapterAt(chapters, at);
    (time.lastElementChild as HTMLElement).textContent = chapter ? chapter.title : "";
    const silent = video.muted || video.volume === 0;
    setGlyph(mute, silent ? "muted" : "volume");
    mute.setAttribute("aria-label", video.muted ? t("player.unmute") : t("player.mute"));
    if (document.activeElement !== volume) volume.value = String(video.muted ? 0 : video.volume);
    volume.setAttribute("aria-valuetext", `${Math.round((video.muted ? 0 : video.volume) * 100)}%`);
    const fs = document.fullscreenElement === root;
    setGlyph(full, fs ? "fullscreenExit" : "fullscreen");
    full.setAttribute("aria-label", fs ? t("player.exitfullscreen") : t("player.fullscreen"));
    if (pip) pip.setAttribute("aria-label", document.pictureInPictureElement === video ? t("player.exitpip") : t("player.pip"));
    if (theatreButton) {
      setGlyph(theatreButton, theatre ? "theatreExit" : "theatre");
      const label = theatre ? t("player.defaultview") : t("player.theatre");
      theatreButton.setAttribute("aria-label", label);
      theatreButton.title = label;
    }
    speedMenu.button.textContent = `${video.playbackRate}×`;
    // The name says the value too: what a screen reader hears of a button is its name.
    speedMenu.button.setAttribute("aria-label", `${t("player.speed")}: ${video.playbackRate}×`);
    renderTrack();
    renderStatus();
  };
  const setChapters = () => {
    chapters = normalizeChapters(opts.chapters ?? [], view.duration());
    root.classList.toggle("has-chapters", chapters.length > 0);
    render();
  };
  for (const ev of ["play", "pause", "timeupdate", "volumechange", "ratechange", "progress", "seeking", "loadedmetadata"]) {
    video.addEventListener(ev, render);
  }
  video.addEventListener("durationchange", setChapters);
  video.addEventListener("play", () => {
    started = true;
  });
  video.addEventListener("waiting", () => {
    buffering = true;
    renderStatus();
  });
  for (const ev of ["playing", "canplay", "seeked", "pause"]) {
    video.addEventListener(ev, () => {
      buffering = false;
      renderStatus();
    });
  }
  document.addEventListener("fullscreenchange", render);
  video.addEventListener("enterpictureinpicture", render);
  video.addEventListener("leavepictureinpicture", render);

  // ---- Actions
  /** The viewer's own change of volume or mute, which is remembered. */
  const setVolume = (v: number, muted: boolean) => {
    video.volume = Math.min(1, Math.max(0, Math.round(v * 100) / 100));
    video.muted = muted;
    writePref(PREFS.volume, String(video.volume));
    writePref(PREFS.muted, muted ? "1" : "0");
  };
  const toggleMute = () => {
    // Unmuting at no volume would still be silent.
    if (video.muted || video.volume === 0) setVolume(video.volume || 0.5, false);
    else setVolume(video.volume, true);
  };
  const toggleFull = () => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => {});
    else if (root.requestFullscreen) void root.requestFullscreen().catch(() => {});
    else (video as HTMLVideoElement & { webkitEnterFullscreen?: () => void }).webkitEnterFullscreen?.();
  };
  const togglePip = () => {
    if (!pip) return;
    if (document.pictureInPictureElement) void document.exitPictureInPicture().catch(() => {});
    else void video.requestPictureInPicture().catch(() => {});
  };
  const toggleTheatre = () => {
    if (!opts.onTheatre) return;
    theatre = !theatre;
    writePref(PREFS.theatre, theatre ? "1" : "0");
    opts.onTheatre(theatre);
    render();
  };
  const chooseCaption = (i: number) => {
    if (!captions) return;
    captions.select(i);
    const tr = captions.tracks()[i];
    writePref(PREFS.captions, tr ? tr.lang || tr.label : "off");
    renderCaptions();
  };
  const toggleCaptions = () => {
    if (!captions) return;
    const tracks = captions.tracks();
    if (!tracks.length) return;
    if (captions.current() >= 0) return chooseCaption(-1);
    // On again: the language chosen last time, else the first one.
    const pref = readPref(PREFS.captions);
    const i = pickCaption(tracks, pref);
    chooseCaption(i >= 0 ? i : 0);
  };
  const setRate = (r: number) => {
    view.rate(r);
    render();
  };
  const jump = (s: number) => {
    const d = view.duration();
    view.seek(Math.min(d, Math.max(0, view.time() + s)));
  };

  play.addEventListener("click", toggle);
  seek.addEventListener("input", () => view.seek(Number(seek.value)));
  mute.addEventListener("click", toggleMute);
  volume.addEventListener("input", () => setVolume(Number(volume.value), Number(volume.value) === 0));
  full.addEventListener("click", toggleFull);
  pip?.addEventListener("click", togglePip);
  theatreButton?.addEventListener("click", toggleTheatre);
  bigPlay.addEventListener("click", toggle);

  // ---- Menus: subtitles, speed, quality
  const renderCaptions = () => {
    const tracks = captions?.tracks() ?? [];
    captionMenu.wrap.hidden = !tracks.length;
    const current = captions?.current() ?? -1;
    captionMenu.button.classList.toggle("on", current >= 0);
    captionMenu.button.setAttribute("aria-pressed", String(current >= 0));
    captionMenu.set([
      { label: t("player.captionsoff"), checked: current < 0, choose: () => chooseCaption(-1), data: { lang: "off" } },
      ...tracks.map((tr, i) => ({ label: tr.label, checked: current === i, choose: () => chooseCaption(i), data: { lang: tr.lang } })),
    ]);
  };
  const renderSpeed = () => {
    speedMenu.set(
      SPEEDS.map((s) => ({
        label: speedLabel(s, t("player.normal")),
        checked: s === video.playbackRate,
        choose: () => setRate(s),
        data: { speed: String(s) },
      })),
    );
  };
  const renderQuality = () => {
    if (!hls) return;
    const sound = view.audioOnly();
    const audioLabel = sound.offered || sound.playing ? t("player.audioonly") : undefined;
    if (sound.playing) {
      qualityMenu.button.textContent = t("player.audioonly");
      qualityMenu.button.setAttribute("aria-label", `${t("player.quality")}: ${t("player.audioonly")}`);
      qualityMenu.set(
        qualityOptions(sound.rungs, t("player.auto"), audioLabel).map((o) => ({
          label: o.label,
          checked: o.level === AUDIO_ONLY,
          choose: () => {
            view.choose(o.level);
            renderQuality();
          },
          data: { level: String(o.level) },
        })),
      );
      return;
    }
    const playing = hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel];
    const selected = hls.manualLevel ?? -1;
    const label = qualityLabel(selected, playing, t("player.auto"));
    // "Auto (720p)": the rung in a part of its own, which a phone leaves out (no room).
    const auto = t("player.auto");
    if (selected < 0 && playing && label.startsWith(auto)) {
      qualityMenu.button.replaceChildren(h("span", {}, auto), h("span.quality-rung", {}, label.slice(auto.length)));
    } else qualityMenu.button.textContent = label;
    qualityMenu.button.setAttribute("aria-label", `${t("player.quality")}: ${label}`);
    if (!hls.levels.length) return;
    qualityMenu.set(
      qualityOptions(hls.levels, t("player.auto"), audioLabel).map((o) => ({
        label: o.label,
        checked: o.level === selected,
        choose: () => {
          view.choose(o.level);
          renderQuality();
        },
        data: { level: String(o.level) },
      })),
    );
  };
  if (hls) {
    hls.on(Hls.Events.MANIFEST_PARSED, renderQuality);
    hls.on(Hls.Events.LEVEL_SWITCHED, renderQuality);
    hls.on(Hls.Events.SUBTITLE_TRACKS_UPDATED, renderCaptions);
    hls.on(Hls.Events.SUBTITLE_TRACK_SWITCH, renderCaptions);
  } else {
    qualityMenu.wrap.hidden = true;
    video.textTracks.addEventListener("addtrack", renderCaptions);
    video.textTracks.addEventListener("change", renderCaptions);
  }
  renderCaptions();
  renderSpeed();
  for (const m of menus) {
    m.button.addEventListener("click", () => {
      for (const other of menus) if (other !== m) other.close();
    });
  }
  // A press anywhere else closes the menus.
  const outside = (e: PointerEvent) => {
    for (const m of menus) if (!m.wrap.contains(e.target as Node)) m.close();
  };
  document.addEventListener("pointerdown", outside);

  // ---- Storyboard thumbnails and chapter titles over the seek bar (the sheets' URLs inside
  // carry the VTT's token: fresh links bring a fresh VTT).
  let thumbs: Thumb[] = [];
  let loading = 0;
  const loadStoryboard = (url: string | null | undefined) => {
    const mine = ++loading;
    if (!url) {
      thumbs = [];
      return;
    }
    fetch(url)
      .then((r) => (r.ok ? r.text() : ""))
      .then((text) => {
        if (mine === loading && text) thumbs = parseStoryboard(text, new URL(url, location.href).toString());
      })
      .catch(() => {});
  };
  loadStoryboard(storyboard);
  const img = preview.querySelector<HTMLElement>(".preview-img")!;
  const previewChapter = preview.querySelector<HTMLElement>(".preview-chapter")!;
  const label = preview.querySelector<HTMLElement>(".preview-time")!;
  seek.addEventListener("pointermove", (e) => {
    const rect = seek.getBoundingClientRect();
    const d = view.duration();
    // The thumb's centre runs from half a thumb in from each end (THUMB in player.css).
    const inset = 6;
    const width = rect.width - 2 * inset;
    if (width <= 0 || d <= 0) return;
    const share = Math.min(1, Math.max(0, (e.clientX - rect.left - inset) / width));
    const at = share * d;
    const th = thumbAt(thumbs, at);
    preview.hidden = false;
    // Kept inside the bar so a thumbnail near an end is not cut off by the player's edge.
    const half = Math.max(th?.w ?? 0, 60) / 2;
    preview.style.left = `${Math.min(rect.width - half, Math.max(half, inset + share * width))}px`;
    label.textContent = formatDuration(at);
    previewChapter.textContent = chapterAt(chapters, at)?.title ?? "";
    if (th) {
      img.hidden = false;
      Object.assign(img.style, {
        width: `${th.w}px`,
        height: `${th.h}px`,
        backgroundImage: `url("${th.url}")`,
        backgroundPosition: `-${th.x}px -${th.y}px`,
      });
    } else img.hidden = true;
  });
  seek.addEventListener("pointerleave", () => {
    preview.hidden = true;
  });

  // ---- Controls hide while playing and nothing moves (shown on any move, focus or pause).
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  const active = () => {
    root.classList.remove("is-idle");
    if (idleTimer !== undefined) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      const busy = view.paused() || menus.some((m) => m.isOpen()) || bar.contains(document.activeElement) || !help.el.hidden;
      if (!busy) root.classList.add("is-idle");
    }, 3000);
  };
  root.addEventListener("pointermove", active);
  root.addEventListener("focusin", active);
  video.addEventListener("play", active);
  video.addEventListener("pause", active);

  // ---- Pointer on the picture: a click plays or pauses, a double click is full screen; on a
  // touch screen a tap shows or hides the controls and a double tap on the left or right third
  // goes back or forward 10 s (again and again while the taps go on), with a ripple there.
  let pointerType = "mouse";
  let lastTap = 0;
  let lastSide = 0;
  let tapTimer: ReturnType<typeof setTimeout> | undefined;
  let rippleTimer: ReturnType<typeof setTimeout> | undefined;
  let rippleSecs = 0;
  const showRipple = (side: number) => {
    rippleSecs = ripple.hidden || ripple.dataset.side !== String(side) ? 10 : rippleSecs + 10;
    ripple.dataset.side = String(side);
    ripple.textContent = side < 0 ? `« ${rippleSecs}` : `${rippleSecs} »`;
    ripple.title = t(side < 0 ? "player.back" : "player.forward", { n: rippleSecs });
    ripple.hidden = false;
    // The animation starts again with each tap.
    ripple.classList.remove("go");
    void ripple.offsetWidth;
    ripple.classList.add("go");
    if (rippleTimer !== undefined) clearTimeout(rippleTimer);
    rippleTimer = setTimeout(() => {
      ripple.hidden = true;
    }, 700);
  };
  video.addEventListener("pointerdown", (e) => {
    pointerType = e.pointerType;
  });
  video.addEventListener("click", (e) => {
    if (pointerType !== "touch") return toggle();
    const rect = video.getBoundingClientRect();
    const x = (e.clientX - rect.left) / Math.max(1, rect.width);
    // The picture does not mirror in a right-to-left page: left is back there too.
    const side = x < 1 / 3 ? -1 : x > 2 / 3 ? 1 : 0;
    const now = performance.now();
    if (side !== 0 && side === lastSide && now - lastTap < 350) {
      if (tapTimer !== undefined) clearTimeout(tapTimer);
      tapTimer = undefined;
      jump(side * 10);
      showRipple(side);
      lastTap = now;
      return;
    }
    lastTap = now;
    lastSide = side;
    if (tapTimer !== undefined) clearTimeout(tapTimer);
    tapTimer = setTimeout(() => {
      tapTimer = undefined;
      if (root.classList.contains("is-idle") || view.paused()) active();
      else root.classList.add("is-idle");
    }, 350);
  });
  video.addEventListener("dblclick", () => {
    if (pointerType !== "touch") toggleFull();
  });

  // ---- Help overlay (`?`)
  let helpReturn: HTMLElement | null = null;
  const openHelp = () => {
    helpReturn = document.activeElement as HTMLElement | null;
    for (const m of menus) m.close();
    help.el.hidden = false;
    help.close.focus();
  };
  function closeHelp() {
    if (help.el.hidden) return;
    help.el.hidden = true;
    (helpReturn && document.contains(helpReturn) ? helpReturn : root).focus();
  }

  // ---- Keyboard
  const onKey = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return;
    const target = e.target instanceof HTMLElement ? e.target : null;
    if (target) {
      if (target.isContentEditable || /^(TEXTAREA|SELECT)$/.test(target.tagName)) return;
      if (target instanceof HTMLInputElement && target !== seek && target !== volume) return;
      // Another dialog (the share dialog) has the keys.
      if (target.closest("dialog") || document.querySelector("dialog[open]")) return;
      // Space and Enter press the button or link that has focus.
      if ((e.key === " " || e.key === "Enter") && target.closest("button, a, summary")) return;
      // The volume slider takes its own arrows.
      if (target === volume && /^Arrow/.test(e.key)) return;
    }
    const action = keyAction(e.key);
    if (!action) return;
    switch (action.do) {
      case "toggle":
        toggle();
        break;
      case "seekBy":
        jump(action.secs);
        break;
      case "seekTo":
        view.seek(action.share * view.duration());
        break;
      case "volumeBy":
        setVolume(video.volume + action.by, false);
        break;
      case "mute":
        toggleMute();
        break;
      case "fullscreen":
        toggleFull();
        break;
      case "theatre":
        if (!opts.onTheatre) return;
        toggleTheatre();
        break;
      case "pip":
        if (!pip) return;
        togglePip();
        break;
      case "captions":
        toggleCaptions();
        break;
      case "speed":
        setRate(stepSpeed(video.playbackRate, action.dir));
        break;
      case "help":
        if (help.el.hidden) openHelp();
        else closeHelp();
        break;
      case "escape":
        if (!help.el.hidden) closeHelp();
        else if (menus.some((m) => m.isOpen())) menus.forEach((m) => m.close(true));
        else return;
        break;
    }
    active();
    e.preventDefault();
  };
  const keyTarget: HTMLElement | Document = opts.keyboard ? document : root;
  keyTarget.addEventListener("keydown", onKey as EventListener);
  setChapters();
  return {
    render,
    storyboard: loadStoryboard,
    reconnecting(on: boolean) {
      reconnecting = on;
      renderStatus();
    },
    destroy: () => {
      loading++;
      for (const timer of [idleTimer, tapTimer, rippleTimer]) if (timer !== undefined) clearTimeout(timer);
      keyTarget.removeEventListener("keydown", onKey as EventListener);
      document.removeEventListener("pointerdown", outside);
      document.removeEventListener("fullscreenchange", render);
      if (document.pictureInPictureElement === video) void document.exitPictureInPicture().catch(() => {});
    },
  };
}

/** The keyboard shortcuts overlay, inside the player (so it shows in full screen too). */
function helpOverlay(onClose: () => void): { el: HTMLElement; close: HTMLButtonElement } {
  const close = h("button.player-help-close", { type: "button", "aria-label": t("player.close"), onclick: onClose }, "✕");
  const heading = h("h2.player-help-title", { id: `player-help-${Math.random().toString(36).slice(2)}` }, t("player.help"));
  const rows = SHORTCUTS.map((s) =>
    h(
      "tr",
      {},
      h("td.player-help-keys", {}, ...s.keys.flatMap((k, i) => [i ? " / " : "", h("kbd", {}, k)])),
      h("td", {}, t(s.what)),
    ),
  );
  const el = h(
    "div.player-help",
    { hidden: true, role: "dialog", "aria-labelledby": heading.id, dataset: { testid: "player-help" } },
    h("div.player-help-box", {}, h("div.player-help-head", {}, heading, close), h("table", {}, h("tbody", {}, ...rows))),
  );
  // A press on the dimmed picture around the box closes it.
  el.addEventListener("click", (e) => {
    if (e.target === el) onClose();
  });
  return { el, close };
}
