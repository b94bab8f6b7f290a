// Signed media links run out: a video that is not public is played through URLs carrying a
// `?token=` that expires (`expires_at`, api.media_token_ttl_secs: 4 h by default) and that a
// privacy or moderation change revokes at once (the media server then answers 403). The
// player asks the playback endpoint for fresh links a while before they expire, and once more
// when the media server refuses them.
import type { Playback } from "./api";

/** The longest delay setTimeout keeps (a longer one fires at once). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;
/** Renew this long before the links expire at the latest… */
export const RENEW_LEAD_MS = 5 * 60_000;
/** …or once this share of the time left has passed, if that comes first. */
export const RENEW_AT_FRACTION = 0.8;
/** After a renewal, the next one waits at least this long (a server whose links live only a
 * few minutes, or a clock far off, must not make the player ask in a loop). */
export const RENEW_MIN_GAP_MS = 15_000;
/** A renewal that failed (network, 5xx) is tried again after this long while the links still
 * work. */
export const RENEW_RETRY_MS = 30_000;

/**
 * How long to wait before asking for fresh links that expire at `expiresAt` (RFC 3339), seen at
 * `now` (ms since the epoch, on the server's clock): at 80 % of the time left or 5 minutes
 * before expiry, whichever is sooner, but never before half the time left has passed (links
 * that live only a few minutes are not asked for again and again). Never below `minMs` nor
 * above what setTimeout can wait; 0 for links already expired; `null` when there is nothing to
 * renew (public videos' links carry no token and never expire).
 */
export function renewDelayMs(expiresAt: string | null | undefined, now: number, minMs = 0): number | null {
  if (!expiresAt) return null;
  // The server writes nanoseconds; Date.parse is only required to read milliseconds.
  const at = Date.parse(expiresAt.replace(/(\.\d{3})\d+/, "$1"));
  if (!Number.isFinite(at) || !Number.isFinite(now)) return null;
  const left = at - now;
  const delay = left <= 0 ? 0 : Math.max(Math.min(left * RENEW_AT_FRACTION, left - RENEW_LEAD_MS), left / 2);
  return Math.min(MAX_TIMEOUT_MS, Math.max(0, minMs, Math.floor(delay)));
}

/** Whether a media request that failed with HTTP `status` means the links no longer open the
 * video: 403 for signed links (expired, or revoked by a privacy or moderation change), 404 for
 * unsigned ones (a public video that stopped being public). */
export function linksRefused(status: number | undefined, signed: boolean): boolean {
  return status === 403 || (status === 404 && !signed);
}

export interface RenewerHooks {
  /** Asks the playback endpoint again. */
  fetch(): Promise<Playback>;
  /** Switches the player to fresh links; `reload` when the old ones were refused (the player
   * must start loading again even if the URL is the same). */
  apply(pb: Playback, reload: boolean): void;
  /** The playback endpoint answered 404: the video is gone or no longer visible to the viewer. */
  gone(): void;
  /** The links were refused and fresh ones could not be had, or were refused too. */
  failed(error: unknown): void;
  /** The server's clock (ms since the epoch), which `expires_at` is on. */
  now(): number;
}

/** Keeps a player's links fresh: one timer before they expire, one re-fetch when they are
 * refused. `stop()` clears everything; nothing is called after it. */
export class LinkRenewer {
  private pb: Playback;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** When the timer should fire, on the local clock (timers lag in background tabs and stop
   * while the machine sleeps: `wake()` checks). */
  private dueAt: number | null = null;
  private busy = false;
  /** Refused while a timed renewal was under way: the links it brings must be loaded anew. */
  private reloadNext = false;
  /** Links were refused and fresh ones asked for since media last loaded. */
  private refusedOnce = false;
  private stopped = false;

  constructor(
    pb: Playback,
    private hooks: RenewerHooks,
  ) {
    this.pb = pb;
    this.schedule(0);
  }

  /** Media loaded: a later refusal may ask for fresh links again. */
  loaded(): void {
    this.refusedOnce = false;
  }

  /** The media server refused the links: ask for fresh ones once; refused again before any
   * media loaded, give up (`failed`). */
  refused(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.reloadNext = true;
      return;
    }
    if (this.refusedOnce) {
      this.clear();
      this.hooks.failed(new Error("the fresh media links were refused too"));
      return;
    }
    this.refusedOnce = true;
    void this.renew(true);
  }

  /** The viewer asked to try again after `failed`. */
  retry(): void {
    if (this.stopped || this.busy) return;
    this.refusedOnce = true;
    void this.renew(true);
  }

  /** The page is visible again (or back online): renew now if the timer is overdue. */
  wake(): void {
    if (this.stopped || this.busy || this.dueAt === null) return;
    if (Date.now() >= this.dueAt) void this.renew(false);
  }

  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAt = null;
  }

  private wait(ms: number): void {
    this.clear();
    this.dueAt = Date.now() + ms;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.renew(false);
    }, ms);
  }

  private schedule(minMs: number): void {
    const ms = renewDelayMs(this.pb.expires_at, this.hooks.now(), minMs);
    if (ms === null) this.clear();
    else this.wait(ms);
  }

  private async renew(refused: boolean): Promise<void> {
    this.clear();
    this.busy = true;
    this.reloadNext = false;
    let pb: Playback;
    try {
      pb = await this.hooks.fetch();
    } catch (e) {
      this.busy = false;
      refused ||= this.reloadNext;
      if (this.stopped) return;
      if ((e as { status?: unknown } | null)?.status === 404) {
        this.stop();
        this.hooks.gone();
      } else if (refused) {
        this.hooks.failed(e);
      } else {
        // The links still work for a while: ask again later.
        this.wait(RENEW_RETRY_MS);
      }
      return;
    }
    this.busy = false;
    if (this.stopped) return;
    if (this.reloadNext) {
      refused = true;
      this.refusedOnce = true;
    }
    this.pb = pb;
    this.hooks.apply(pb, refused);
    this.schedule(RENEW_MIN_GAP_MS);
  }
}
