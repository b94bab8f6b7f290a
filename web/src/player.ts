// The watch page's player: hls.js on a <video>, with our own controls: play, seek bar with
// storyboard thumbnails on hover, time, mute, quality menu (auto + every rung), full screen,
// and keyboard shortcuts.
import Hls from "hls.js/light";
import type { Playback } from "./api";
import { h } from "./dom";
import { formatDuration } from "./format";
import { setIcon } from "./icons";
import { t } from "./i18n";
import { qualityLabel, qualityOptions } from "./quality";
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
}

export function createPlayer(pb: Playback, opts: PlayerOptions = {}): Player {
  const video = h("video", {
    playsInline: true,
    preload: "metadata",
    poster: pb.poster ?? undefined,
    muted: !!opts.muted,
    loop: !!opts.loop,
    autoplay: !!opts.autoplay,
  });
  video.muted = !!opts.muted;
  const el = h("div.player", { tabIndex: 0, dataset: { testid: "player" } }, video);
  const hls = Hls.isSupported() ? new Hls({ startPosition: 0, capLevelToPlayerSize: false, maxBufferLength: 30 }) : null;
  if (hls) {
    hls.loadSource(pb.hls);
    hls.attachMedia(video);
  } else if (video.canPlayType("application/vnd.apple.mpegurl")) {
    video.src = pb.hls;
  }
  const cleanups: (() => void)[] = [];
  if (!opts.bare) cleanups.push(controls(el, video, hls, pb, opts));
  return {
    el,
    video,
    destroy() {
      cleanups.forEach((c) => c());
      hls?.destroy();
      video.removeAttribute("src");
      video.load();
    },
  };
}

function controls(
  root: HTMLElement,
  video: HTMLVideoElement,
  hls: Hls | null,
  pb: Playback,
  opts: PlayerOptions,
): () => void {
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

  const toggle = () => (video.paused ? void video.play().catch(() => {}) : video.pause());
  const render = () => {
    setIcon(play, video.paused ? "play" : "pause");
    play.setAttribute("aria-label", video.paused ? t("player.play") : t("player.pause"));
    const d = Number.isFinite(video.duration) ? video.duration : 0;
    seek.max = String(d);
    if (document.activeElement !== seek) seek.value = String(video.currentTime);
    time.textContent = `${formatDuration(video.currentTime)} / ${formatDuration(d)}`;
    setIcon(mute, video.muted || video.volume === 0 ? "muted" : "volume");
    mute.setAttribute("aria-label", video.muted ? t("player.unmute") : t("player.mute"));
  };
  for (const ev of ["play", "pause", "timeupdate", "durationchange", "volumechange", "loadedmetadata"]) {
    video.addEventListener(ev, render);
  }
  play.addEventListener("click", toggle);
  video.addEventListener("click", toggle);
  seek.addEventListener("input", () => {
    video.currentTime = Number(seek.value);
  });
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
                hls.currentLevel = o.level;
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

  // Storyboard thumbnails over the seek bar.
  let thumbs: Thumb[] = [];
  if (pb.storyboard) {
    const url = pb.storyboard;
    fetch(url)
      .then((r) => (r.ok ? r.text() : ""))
      .then((text) => {
        thumbs = parseStoryboard(text, new URL(url, location.href).toString());
      })
      .catch(() => {});
  }
  const img = preview.querySelector<HTMLElement>(".preview-img")!;
  const label = preview.querySelector<HTMLElement>(".preview-time")!;
  seek.addEventListener("mousemove", (e) => {
    const rect = seek.getBoundingClientRect();
    const d = Number.isFinite(video.duration) ? video.duration : 0;
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
    const d = Number.isFinite(video.duration) ? video.duration : 0;
    const jump = (s: number) => {
      video.currentTime = Math.min(d, Math.max(0, video.currentTime + s));
    };
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
  return () => keyTarget.removeEventListener("keydown", onKey as EventListener);
}
