// Pure logic of the playlists and the watch history: a reordered list and the move the API
// takes for it, the part of a video watched, and the videos watched earlier in this tab.

/** `ids` with the item at `from` moved to index `to` (indices of the list before the move,
 * `to` counted as if the item were already taken out), and the id it now follows (`null`:
 * first) — the `after` of `POST /playlists/{id}/videos/{video}/move`. `null` when nothing
 * moves. */
export function moveItem(ids: readonly string[], from: number, to: number): { ids: string[]; after: string | null } | null {
  if (from < 0 || from >= ids.length) return null;
  const target = Math.max(0, Math.min(ids.length - 1, to));
  if (target === from) return null;
  const next = ids.slice();
  const [item] = next.splice(from, 1);
  next.splice(target, 0, item);
  return { ids: next, after: target > 0 ? next[target - 1] : null };
}

/** Where an item dragged from `from` lands when dropped on the item at `over`: before it when
 * dropped on its upper half, after it otherwise (as an index for `moveItem`). */
export function dropIndex(from: number, over: number, upperHalf: boolean): number {
  const slot = upperHalf ? over : over + 1;
  // Taking the item out first shifts what follows it up by one.
  return slot > from ? slot - 1 : slot;
}

/** The part of a video watched (0 to 1), from where I stopped and its length; 0 when either
 * is unknown. */
export function watchedFraction(resumeSecs: number | null | undefined, durationSecs: number | null | undefined): number {
  if (!resumeSecs || !durationSecs || durationSecs <= 0) return 0;
  return Math.min(1, Math.max(0, resumeSecs / durationSecs));
}

/** The next entry of a playlist after `current` (none after the last, or when `current` is
 * not in it). */
export function nextInList(ids: readonly string[], current: string): string | null {
  const i = ids.indexOf(current);
  return i >= 0 && i + 1 < ids.length ? ids[i + 1] : null;
}

const WATCHED_KEY = "kadr.watched";
/** How many ids `?exclude=` takes. */
export const EXCLUDE_MAX = 50;

/** `list` with `id` added as the latest, each once, at most `max` (the oldest go). */
export function remember(list: readonly string[], id: string, max = EXCLUDE_MAX): string[] {
  return [...list.filter((x) => x !== id), id].slice(-max);
}

/** Ids of the videos watched earlier in this tab (sessionStorage), oldest first. */
export function watchedInTab(storage: Pick<Storage, "getItem"> = sessionStorage): string[] {
  try {
    const value: unknown = JSON.parse(storage.getItem(WATCHED_KEY) ?? "[]");
    return Array.isArray(value) ? value.filter((x): x is string => typeof x === "string") : [];
  } catch {
    return [];
  }
}

/** Records `id` as watched in this tab. */
export function markWatched(id: string, storage: Pick<Storage, "getItem" | "setItem"> = sessionStorage): void {
  try {
    storage.setItem(WATCHED_KEY, JSON.stringify(remember(watchedInTab(storage), id)));
  } catch {
    // Storage full or refused: related videos just leave nothing out.
  }
}
