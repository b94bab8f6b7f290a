// Stills: a video's picture at any second, `/media/{id}/thumbnail.jpg?t=SECONDS&w=WIDTH`,
// made by the server the first time it is asked for. A video that is not public signs its
// pictures: the `token` of its poster's URL (from the playback endpoint) opens them too.

/** The widths the server makes (never wider than the video's largest rung). */
export const STILL_WIDTHS = [160, 320, 640, 1280] as const;
export type StillWidth = (typeof STILL_WIDTHS)[number];

/** The `token` query value of a signed media URL (a poster's), if it has one. */
export function imageToken(url: string | null | undefined): string | null {
  if (!url) return null;
  try {
    return new URL(url, "http://x.invalid").searchParams.get("token");
  } catch {
    return null;
  }
}

/** The address of the still of `id` at `secs` (whole seconds, as the server rounds them) and
 * `width`, signed with `token` when one is given. */
export function stillUrl(id: string, secs: number, width: StillWidth, token?: string | null): string {
  const q = new URLSearchParams({ t: String(Math.max(0, Math.round(Number.isFinite(secs) ? secs : 0))), w: String(width) });
  if (token) q.set("token", token);
  return `/media/${encodeURIComponent(id)}/thumbnail.jpg?${q.toString()}`;
}

/** The stills of one video, signed like its poster: `at(secs, width)` is a still's address. */
export function stillsOf(id: string, poster: string | null | undefined): (secs: number, width: StillWidth) => string {
  const token = imageToken(poster);
  return (secs, width) => stillUrl(id, secs, width, token);
}
