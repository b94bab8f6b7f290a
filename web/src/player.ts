// The watch page's player: hls.js on a <video>, with our own controls: play, seek bar with
// storyboard thumbnails on hover, time, mute, quality menu (auto + every rung), full screen,
// and keyboard shortcuts. The links of a video that is not public are signed and run out (or
// are revoked by a privacy or moderation change): the player asks for fresh ones before they
// expire and when the media server refuses them (renew.ts), and goes on with them where it was.
import Hls from "hls.js/light";
import { playback, serverNow, type Playback } from "./api";
import { h } from "./dom";
import { formatDuration } from "./format";
import { setIcon } from "./icons";
import { t } from "./i18n";
import { qualityLabel, qualityOptions } from "./quality";
import { LinkRenewer, linksRefused } from "./renew";
import { parseStoryboard, thumbAt, type Thumb } from "./storyboard";

export interface Player {
  el: HTMLElement;
  video: HTMLVideoElement;
  destroy(): void;
}

export interface PlayerOptions {
  autoplay?: boolean;
  muted?: boolean;
  loop?: boolean;
  /** No controls of our own (the shorts feed). */
  bare?: boolean;
  /** Keyboard shortcuts on the whole document. */
  keyboard?: boolean;
  /** Where to start, in seconds (where the viewer stopped last time). */
  start?: number;
  /** Asked for fresh links, the playback endpoint answered 404: the video was deleted or is
   * no longer visible to this viewer. The media has been stopped; without this the player
   * shows the "not available" notice in its place. */
  onGone?: () => void;
}

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
  /** The viewer picked a rung (-1: automatic). */
  choose: (level: number) => void;
}

export function createPlayer(first: Playback, opts: PlayerOptions = {}): Player {
  let pb = first;
  const video = h("video", {
    playsInline: true,
    preload: "metadata",
    poster: pb.poster ?? undefined,
    muted: !!opts.muted,
    loop: !!opts.loop,
    autoplay: !!opts.autoplay,
  });
  video.muted = !!opts.muted;
  const retry = h("button.player-retry", { type: "button" }, t("player.retry"));
  const failed = h(
    "div.player-failed",
    { hidden: true, role: "alert", dataset: { testid: "player-failed" } },
    h("p", {}, t("player.failed")),
    retry,
  );
  const el = h("div.player", { tabIndex: 0, dataset: { testid: "player" } }, video, failed);
  // Loading starts on MANIFEST_PARSED below: at 0, or where a switch to fresh links resumes.
  const hls = Hls.isSupported()
    ? new Hls({ startPosition: 0, autoStartLoad: false, capLevelToPlayerSize: false, maxBufferLength: 30 })
    : null;
  let resume: Resume | null = null;
  // The rung the viewer chose in the menu (-1: automatic). Kept here: hls.js drops a manual
  // choice when that rung's requests fail, as they all do once the links are refused.
  let chosen = -1;
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
    resume = {
      position: resume?.position ?? video.currentTime,
      paused: resume?.paused ?? pausedOnFailure ?? video.paused,
      manual: resume?.manual ?? chosen,
      loading: resume?.loading ?? hls?.loadLevel ?? -1,
      rate: resume?.rate ?? video.playbackRate,
      duration: resume?.duration ?? video.duration,
    };
    pausedOnFailure = null;
    // Mid-video, no flash of the title picture while the new source loads.
    if (resume.position > 0 || !resume.paused) video.removeAttribute("poster");
    else setPoster(next.poster);
    if (hls) hls.loadSource(next.hls);
    else video.src = next.hls;
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
      chosen = level;
      if (resume) resume.manual = level;
      if (hls && (!resume || hls.levels.length)) hls.currentLevel = level;
    },
  };
  const stopMedia = () => {
    hls?.stopLoad();
    video.pause();
  };
  const links = new LinkRenewer(pb, {
    fetch: () => playback(pb.id),
    apply: update,
    now: serverNow,
    gone: () => {
      stopMedia();
      if (opts.onGone) opts.onGone();
      else el.replaceChildren(h("p.notice", { dataset: { testid: "notfound" } }, t("video.notfound")));
    },
    failed: () => {
      pausedOnFailure = view.paused();
      stopMedia();
      failed.hidden = false;
      ui?.render();
    },
  });
  retry.addEventListener("click", (e) => {
    e.stopPropagation();
    failed.hidden = true;
    links.retry();
  });
  // Timers lag in background tabs and stop while the machine sleeps.
  const wake = () => {
    if (document.visibilityState === "visible") links.wake();
  };
  document.addEventListener("visibilitychange", wake);
  addEventListener("online", wake);

  if (hls) {
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
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
    hls.on(Hls.Events.FRAG_LOADED, () => links.loaded());
    hls.on(Hls.Events.ERROR, (_event, data) => {
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR && linksRefused(data.response?.code, !!pb.expires_at)) {
        links.refused();
      }
    });
    hls.loadSource(pb.hls);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
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
    video.src = pb.hls;
  }

  if (!opts.bare) ui = controls(el, video, hls, view, pb.storyboard, opts);
  return {
    el,
    video,
    destroy() {
      links.stop();
      document.removeEventListener("visibilitychange", wake);
      removeEventListener("online", wake);
      ui?.destroy();
      hls?.destroy();
      video.removeAttribute("src");
      video.load();
    },
  };
}

interface Controls {
  render(): void;
  /** Thumbnails from another storyboard (fresh links). */
  storyboard(url: string | null | undefined): void;
  destroy(): void;
}

function controls(
  root: HTMLElement,
  video: HTMLVideoElement,
  hls: Hls | null,
  view: View,
  storyboard: string | null | undefined,
  opts: PlayerOptions,
): Controls {
  const play = h("button.ctl.play", { type: "button", "aria-label": t("player.play") });
  const seek = h("input.seek", { type: "range", min: "0", max: "0", step: "0.1", value: "0", "aria-label": "seek" });
  const preview = h("div.preview", { hidden: true }, h("div.preview-img"), h("span.preview-time"));
  const time = h("span.time", {}, "0:00 / 0:00");
  const mute = h("button.ctl.mute", { type: "button", "aria-label": t("player.mute") });
  const qualityButton = h("button.ctl.quality", { type: "button", "aria-haspopup": "menu", "aria-label": t("player.quality") }, t("player.auto"));
  const qualityMenu = h("div.quality-menu", { role: "menu", hidden: true });
  const full = h("button.ctl.full", { type: "button", "aria-label": t("player.fullscreen") });
  setIcon(full, "fullscreen");
  const bar = h(
    "div.controls",
    {},
    play,
    h("div.seek-wrap", {}, seek, preview),
    time,
    mute,
    h("div.quality-wrap", {}, qualityButton, qualityMenu),
    full,
  );
  root.appendChild(bar);

  const toggle = view.toggle;
  const render = () => {
    const paused = view.paused();
    setIcon(play, paused ? "play" : "pause");
    play.setAttribute("aria-label", paused ? t("player.play") : t("player.pause"));
    const d = view.duration();
    const at = view.time();
    seek.max = String(d);
    if (document.activeElement !== seek) seek.value = String(at);
    time.textContent = `${formatDuration(at)} / ${formatDuration(d)}`;
    setIcon(mute, video.muted || video.volume === 0 ? "muted" : "volume");
    mute.setAttribute("aria-label", video.muted ? t("player.unmute") : t("player.mute"));
  };
  for (const ev of ["play", "pause", "timeupdate", "durationchange", "volumechange", "loadedmetadata"]) {
    video.addEventListener(ev, render);
  }
  play.addEventListener("click", toggle);
  video.addEventListener("click", toggle);
  seek.addEventListener("input", () => view.seek(Number(seek.value)));
  mute.addEventListener("click", () => {
    video.muted = !video.muted;
  });
  full.addEventListener("click", () => {
    if (document.fullscreenElement) void document.exitFullscreen();
    else void root.requestFullscreen?.().catch(() => {});
  });

  // Quality menu from the master playlist's variants.
  const renderQuality = () => {
    if (!hls) return;
    const playing = hls.levels[hls.currentLevel >= 0 ? hls.currentLevel : hls.loadLevel];
    qualityButton.textContent = qualityLabel(hls.manualLevel ?? -1, playing, t("player.auto"));
    for (const item of qualityMenu.querySelectorAll<HTMLElement>("[role=menuitemradio]")) {
      item.setAttribute("aria-checked", String(Number(item.dataset.level) === (hls.manualLevel ?? -1)));
    }
  };
  if (hls) {
    hls.on(Hls.Events.MANIFEST_PARSED, () => {
      const options = qualityOptions(hls.levels, t("player.auto"));
      qualityMenu.replaceChildren(
        ...options.map((o) =>
          h(
            "button.quality-item",
            {
              type: "button",
              role: "menuitemradio",
              dataset: { level: String(o.level) },
              onclick: () => {
                view.choose(o.level);
                qualityMenu.hidden = true;
                renderQuality();
              },
            },
            o.label,
          ),
        ),
      );
      renderQuality();
    });
    hls.on(Hls.Events.LEVEL_SWITCHED, renderQuality);
  } else qualityButton.hidden = true;
  qualityButton.addEventListener("click", () => {
    qualityMenu.hidden = !qualityMenu.hidden;
  });

  // Storyboard thumbnails over the seek bar (the sheets' URLs inside carry the VTT's token:
  // fresh links bring a fresh VTT).
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
  const label = preview.querySelector<HTMLElement>(".preview-time")!;
  seek.addEventListener("mousemove", (e) => {
    const rect = seek.getBoundingClientRect();
    const d = view.duration();
    if (rect.width <= 0 || d <= 0) return;
    const frac = Math.min(1, Math.max(0, (e.clientX - rect.left) / rect.width));
    const at = frac * d;
    const th = thumbAt(thumbs, at);
    preview.hidden = false;
    preview.style.left = `${frac * rect.width}px`;
    label.textContent = formatDuration(at);
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
  seek.addEventListener("mouseleave", () => {
    preview.hidden = true;
  });

  // Keyboard: space/k play, j/l ±10 s, arrows ±5 s, m mute, f full screen, up/down volume.
  const onKey = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement | null;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName) && target !== seek) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const d = view.duration();
    const jump = (s: number) => view.seek(Math.min(d, Math.max(0, view.time() + s)));
    switch (e.key) {
      case " ":
      case "k":
        toggle();
        break;
      case "j":
        jump(-10);
        break;
      case "l":
        jump(10);
        break;
      case "ArrowLeft":
        jump(-5);
        break;
      case "ArrowRight":
        jump(5);
        break;
      case "ArrowUp":
        video.volume = Math.min(1, video.volume + 0.1);
        break;
      case "ArrowDown":
        video.volume = Math.max(0, video.volume - 0.1);
        break;
      case "m":
        video.muted = !video.muted;
        break;
      case "f":
        full.click();
        break;
      default:
        return;
    }
    e.preventDefault();
  };
  const keyTarget: HTMLElement | Document = opts.keyboard ? document : root;
  keyTarget.addEventListener("keydown", onKey as EventListener);
  render();
  return {
    render,
    storyboard: loadStoryboard,
    destroy: () => {
      loading++;
      keyTarget.removeEventListener("keydown", onKey as EventListener);
    },
  };
}
