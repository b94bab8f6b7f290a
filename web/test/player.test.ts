// The player: what its keys do, the speeds, the remembered subtitles language and volume, the
// reconnection's pauses; and its controls in a page (happy-dom, where no HLS plays): labels,
// the keyboard, the menus, the help overlay, theatre mode.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Playback } from "../src/api";
import {
  backoffMs,
  createPlayer,
  keyAction,
  pickCaption,
  PREFS,
  RECONNECT_TRIES,
  SHORTCUTS,
  SPEEDS,
  speedLabel,
  stepSpeed,
  storedVolume,
  type Player,
} from "../src/player";

describe("keyAction", () => {
  it("maps YouTube's shortcuts", () => {
    expect(keyAction("k")).toEqual({ do: "toggle" });
    expect(keyAction(" ")).toEqual({ do: "toggle" });
    expect(keyAction("K")).toEqual({ do: "toggle" });
    expect(keyAction("j")).toEqual({ do: "seekBy", secs: -10 });
    expect(keyAction("l")).toEqual({ do: "seekBy", secs: 10 });
    expect(keyAction("ArrowLeft")).toEqual({ do: "seekBy", secs: -5 });
    expect(keyAction("ArrowRight")).toEqual({ do: "seekBy", secs: 5 });
    expect(keyAction("ArrowUp")).toEqual({ do: "volumeBy", by: 0.05 });
    expect(keyAction("ArrowDown")).toEqual({ do: "volumeBy", by: -0.05 });
    expect(keyAction("m")).toEqual({ do: "mute" });
    expect(keyAction("f")).toEqual({ do: "fullscreen" });
    expect(keyAction("t")).toEqual({ do: "theatre" });
    expect(keyAction("i")).toEqual({ do: "pip" });
    expect(keyAction("c")).toEqual({ do: "captions" });
    expect(keyAction("<")).toEqual({ do: "speed", dir: -1 });
    expect(keyAction(">")).toEqual({ do: "speed", dir: 1 });
    expect(keyAction("?")).toEqual({ do: "help" });
    expect(keyAction("Escape")).toEqual({ do: "escape" });
    expect(keyAction("0")).toEqual({ do: "seekTo", share: 0 });
    expect(keyAction("7")).toEqual({ do: "seekTo", share: 0.7 });
    expect(keyAction("Home")).toEqual({ do: "seekTo", share: 0 });
    expect(keyAction("End")).toEqual({ do: "seekTo", share: 1 });
  });

  it("leaves other keys alone", () => {
    for (const k of ["a", "Enter", "Tab", "Shift", "F5", "л", "ArrowLeftX"]) expect(keyAction(k), k).toBeNull();
  });

  it("lists in the help every key it knows", () => {
    expect(SHORTCUTS.length).toBe(17);
  });
});

describe("speeds", () => {
  it("are YouTube's, 0.25 to 2", () => {
    expect([...SPEEDS]).toEqual([0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2]);
  });

  it("step up and down, staying at the ends", () => {
    expect(stepSpeed(1, 1)).toBe(1.25);
    expect(stepSpeed(1, -1)).toBe(0.75);
    expect(stepSpeed(2, 1)).toBe(2);
    expect(stepSpeed(0.25, -1)).toBe(0.25);
    // A rate between two (set elsewhere) goes to the neighbour that way.
    expect(stepSpeed(1.1, 1)).toBe(1.25);
    expect(stepSpeed(1.1, -1)).toBe(1);
  });

  it("are labelled, the normal one by name", () => {
    expect(speedLabel(1, "Normal")).toBe("Normal");
    expect(speedLabel(1.5, "Normal")).toBe("1.5×");
    expect(speedLabel(0.25, "Обычная")).toBe("0.25×");
  });
});

describe("pickCaption", () => {
  const tracks = [
    { lang: "en", label: "English" },
    { lang: "ru", label: "Русский" },
    { lang: "pt-BR", label: "Português" },
  ];
  it("is off until the viewer chose a language, and when they turned it off", () => {
    expect(pickCaption(tracks, null)).toBe(-1);
    expect(pickCaption(tracks, "off")).toBe(-1);
  });

  it("takes the chosen language, exactly or by its primary tag", () => {
    expect(pickCaption(tracks, "ru")).toBe(1);
    expect(pickCaption(tracks, "RU")).toBe(1);
    expect(pickCaption(tracks, "pt-BR")).toBe(2);
    expect(pickCaption(tracks, "pt")).toBe(2);
    expect(pickCaption(tracks, "en-GB")).toBe(0);
  });

  it("stays off on a video without that language", () => {
    expect(pickCaption(tracks, "ar")).toBe(-1);
    expect(pickCaption([], "ru")).toBe(-1);
  });
});

describe("reconnection and remembered volume", () => {
  it("waits longer after each failure, up to 30 s", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(backoffMs)).toEqual([1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(RECONNECT_TRIES).toBeGreaterThan(3);
  });

  it("reads a stored volume only when it is one", () => {
    expect(storedVolume("0.35")).toBe(0.35);
    expect(storedVolume("0")).toBe(0);
    expect(storedVolume(null)).toBeNull();
    expect(storedVolume("")).toBeNull();
    expect(storedVolume("2")).toBeNull();
    expect(storedVolume("loud")).toBeNull();
  });
});

describe("the controls", () => {
  const pb: Playback = { id: "v1", hls: "/media/v1/master.m3u8", live_edge: false };
  let player: Player;
  let theatre: ReturnType<typeof vi.fn>;
  const q = <T extends HTMLElement>(sel: string) => player.el.querySelector<T>(sel)!;
  const key = (k: string, target: EventTarget = document.body) =>
    target.dispatchEvent(new KeyboardEvent("keydown", { key: k, bubbles: true, cancelable: true }));

  beforeEach(() => {
    localStorage.clear();
    theatre = vi.fn();
    player = createPlayer(pb, { keyboard: true, onTheatre: theatre as (on: boolean) => void });
    document.body.append(player.el);
  });
  afterEach(() => {
    player.destroy();
    document.body.replaceChildren();
  });

  it("are buttons and sliders with names", () => {
    const controls = [...player.el.querySelectorAll<HTMLElement>(".controls button, .controls input")].filter((el) => !el.closest("[hidden]"));
    // Play, seek, mute, volume, speed, theatre, full screen (no quality menu without hls.js).
    expect(controls.length).toBeGreaterThanOrEqual(7);
    for (const el of controls) expect(el.getAttribute("aria-label"), el.className).toBeTruthy();
    expect(q(".seek").getAttribute("aria-label")).toBe("Seek");
    expect(q(".volume").getAttribute("aria-label")).toBe("Volume");
    // No subtitles in this video: no subtitles button.
    expect(q(".captions-wrap").hidden).toBe(true);
  });

  it("answer the keys: speed, volume (remembered), theatre", () => {
    key(">");
    expect(player.video.playbackRate).toBe(1.25);
    key("<");
    key("<");
    expect(player.video.playbackRate).toBe(0.75);
    expect(q(".ctl.speed").textContent).toBe("0.75×");
    key("ArrowDown");
    expect(player.video.volume).toBe(0.95);
    expect(localStorage.getItem(PREFS.volume)).toBe("0.95");
    key("m");
    expect(player.video.muted).toBe(true);
    expect(localStorage.getItem(PREFS.muted)).toBe("1");
    key("t");
    expect(theatre).toHaveBeenCalledWith(true);
    expect(q(".ctl.theatre").getAttribute("aria-label")).toBe("Default view");
    expect(localStorage.getItem(PREFS.theatre)).toBe("1");
  });

  it("leave the keys alone while the viewer types", () => {
    const box = document.createElement("textarea");
    document.body.append(box);
    key(">", box);
    key("m", box);
    expect(player.video.playbackRate).toBe(1);
    expect(player.video.muted).toBe(false);
  });

  it("show the help with ? and close it with Escape", () => {
    const help = q("[data-testid=player-help]");
    expect(help.hidden).toBe(true);
    key("?");
    expect(help.hidden).toBe(false);
    expect(help.textContent).toContain("Keyboard shortcuts");
    expect(help.querySelectorAll("tr")).toHaveLength(SHORTCUTS.length);
    key("Escape");
    expect(help.hidden).toBe(true);
  });

  it("open menus that arrows walk and Escape closes", () => {
    const button = q<HTMLButtonElement>(".ctl.speed");
    const list = q(".speed-menu");
    button.click();
    expect(list.hidden).toBe(false);
    expect(button.getAttribute("aria-expanded")).toBe("true");
    const items = [...list.querySelectorAll<HTMLElement>("[role=menuitemradio]")];
    expect(items.map((i) => i.textContent)).toEqual(["0.25×", "0.5×", "0.75×", "Normal", "1.25×", "1.5×", "1.75×", "2×"]);
    // The current speed has focus.
    expect(document.activeElement).toBe(items[3]);
    key("ArrowDown", items[3]);
    expect(document.activeElement).toBe(items[4]);
    key("End", items[4]);
    expect(document.activeElement).toBe(items[7]);
    key("ArrowDown", items[7]);
    expect(document.activeElement).toBe(items[0]);
    items[0].click();
    expect(player.video.playbackRate).toBe(0.25);
    expect(list.hidden).toBe(true);
    expect(document.activeElement).toBe(button);
    button.click();
    key("Escape", document.activeElement!);
    expect(list.hidden).toBe(true);
    expect(document.activeElement).toBe(button);
  });

  it("take the remembered volume and mute", () => {
    player.destroy();
    localStorage.setItem(PREFS.volume, "0.4");
    localStorage.setItem(PREFS.muted, "1");
    player = createPlayer(pb, {});
    expect(player.video.volume).toBe(0.4);
    expect(player.video.muted).toBe(true);
    // Asked to start with sound (or without), the page decides.
    player.destroy();
    player = createPlayer(pb, { muted: false });
    expect(player.video.muted).toBe(false);
  });
});
