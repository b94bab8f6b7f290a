// The player's quality menu: automatic, then every rung from the highest down, then the sound
// alone when the master playlist has an audio-only variant.

export interface Level {
  height: number;
  width: number;
  bitrate: number;
}

export interface QualityOption {
  /** hls.js level index, or -1 for automatic selection. */
  level: number;
  label: string;
}

/** The menu's entry for the audio-only rendition (not an hls.js level: hls.js leaves audio-only
 * variants out of a master that has video, so the player loads that variant's own playlist). */
export const AUDIO_ONLY = -2;

/** "Auto" first, then one entry per rung, highest first; rungs of equal height keep the one
 * with more bits; "Audio only" last when `audioLabel` is given. */
export function qualityOptions(levels: Level[], autoLabel: string, audioLabel?: string): QualityOption[] {
  const best = new Map<number, number>();
  levels.forEach((l, i) => {
    const prev = best.get(l.height);
    if (prev === undefined || levels[prev].bitrate < l.bitrate) best.set(l.height, i);
  });
  const rungs = [...best.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([height, level]) => ({ level, label: `${height}p` }));
  const audio = audioLabel ? [{ level: AUDIO_ONLY, label: audioLabel }] : [];
  return [{ level: -1, label: autoLabel }, ...rungs, ...audio];
}

/** A variant of a master playlist as hls.js parses it (before it filters any out). */
export interface ParsedVariant {
  url: string;
  audioCodec?: string;
  videoCodec?: string;
  width?: number;
  height?: number;
}

/** The audio-only variant's playlist URL (sound in its CODECS, no video codec, no
 * RESOLUTION), or `null` when the master has none. */
export function audioOnlyVariant(variants: readonly ParsedVariant[]): string | null {
  return variants.find((v) => !!v.audioCodec && !v.videoCodec && !(v.width && v.height))?.url ?? null;
}

/** The label shown on the menu button: "Auto (720p)" while automatic. */
export function qualityLabel(selected: number, playing: Level | undefined, autoLabel: string): string {
  if (selected >= 0 && playing) return `${playing.height}p`;
  return playing ? `${autoLabel} (${playing.height}p)` : autoLabel;
}

/** Video codecs as CODECS names them (RFC 8216's and the browsers'). */
const VIDEO_CODEC = /^(avc[1-4]|hvc1|hev1|dvh[1e]|av01|vp0?[89])(\.|$)/i;

/** The audio-only variant's playlist URL in the master playlist `text` (fetched from `base`),
 * resolved against `base`; `null` when it has none. The same rule as `audioOnlyVariant`, for a
 * master the player reads itself (fresh links while it plays the sound alone). */
export function audioOnlyInMaster(text: string, base: string): string | null {
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].startsWith("#EXT-X-STREAM-INF:")) continue;
    const attrs = lines[i].slice("#EXT-X-STREAM-INF:".length);
    const codecs = /(?:^|,)CODECS="([^"]*)"/.exec(attrs)?.[1].split(",").map((c) => c.trim()).filter(Boolean) ?? [];
    const resolution = /(?:^|,)RESOLUTION=\d+x\d+/.test(attrs);
    const uri = lines.slice(i + 1).find((l) => l && !l.startsWith("#"));
    if (!uri || resolution || !codecs.length || codecs.some((c) => VIDEO_CODEC.test(c))) continue;
    try {
      return new URL(uri, base).toString();
    } catch {
      return null;
    }
  }
  return null;
}
