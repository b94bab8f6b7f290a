// The player's quality menu: automatic, then every rung from the highest down.

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

/** "Auto" first, then one entry per rung, highest first; rungs of equal height keep the one
 * with more bits. */
export function qualityOptions(levels: Level[], autoLabel: string): QualityOption[] {
  const best = new Map<number, number>();
  levels.forEach((l, i) => {
    const prev = best.get(l.height);
    if (prev === undefined || levels[prev].bitrate < l.bitrate) best.set(l.height, i);
  });
  const rungs = [...best.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([height, level]) => ({ level, label: `${height}p` }));
  return [{ level: -1, label: autoLabel }, ...rungs];
}

/** The label shown on the menu button: "Auto (720p)" while automatic. */
export function qualityLabel(selected: number, playing: Level | undefined, autoLabel: string): string {
  if (selected >= 0 && playing) return `${playing.height}p`;
  return playing ? `${autoLabel} (${playing.height}p)` : autoLabel;
}
