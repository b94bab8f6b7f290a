// Where the viewer stopped: the player's position is saved every 5 s while it plays, when it
// pauses, and when the viewer leaves (the tab hidden or closed, another page of the app), and
// read back before the player starts. Only for a signed-in viewer.
import { call, callKeepalive, get } from "./api";

/** How often the position is saved while the video plays. */
export const SAVE_EVERY_MS = 5000;

/** Where to start `id` (seconds), from the viewer's history; 0 when there is nothing to resume
 * (signed out, never watched, watched to the end, history paused). */
export async function resumeAt(id: string, signedIn: boolean): Promise<number> {
  if (!signedIn) return 0;
  try {
    const at = await get("/api/v1/videos/{id}/position", { path: { id } });
    return at.position_ms ? at.position_ms / 1000 : 0;
  } catch {
    return 0;
  }
}

/** Saves `video`'s position as `id`'s; returns the stop (which saves once more, as the page
 * goes away). */
export function trackPosition(video: HTMLVideoElement, id: string): () => void {
  let saved = -1;
  const at = () => Math.round(video.currentTime * 1000);
  const worth = () => video.readyState > 0 && Number.isFinite(video.currentTime) && Math.abs(at() - saved) >= 500;
  const save = () => {
    if (!worth()) return;
    saved = at();
    call("put", "/api/v1/videos/{id}/position", { path: { id }, body: { position_ms: saved } }).catch(() => {});
  };
  // The page may be gone before an ordinary request is answered: a keepalive request outlives it.
  const saveLeaving = () => {
    if (!worth()) return;
    saved = at();
    callKeepalive("/api/v1/videos/{id}/position", { id }, { position_ms: saved });
  };
  const timer = setInterval(() => {
    if (!video.paused) save();
  }, SAVE_EVERY_MS);
  const hidden = () => {
    if (document.visibilityState === "hidden") saveLeaving();
  };
  video.addEventListener("pause", save);
  video.addEventListener("ended", save);
  addEventListener("pagehide", saveLeaving);
  document.addEventListener("visibilitychange", hidden);
  return () => {
    clearInterval(timer);
    video.removeEventListener("pause", save);
    video.removeEventListener("ended", save);
    removeEventListener("pagehide", saveLeaving);
    document.removeEventListener("visibilitychange", hidden);
    saveLeaving();
  };
}
