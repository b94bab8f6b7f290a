// Likes, dislikes, comment likes and subscriptions change on screen at once; the server's
// counts follow about a second later (the worker folds them), so the page keeps its own.
import type { Rating } from "./api";

/** A video's counts as the viewer sees them, with their own rating. */
export interface Tally {
  likes: number;
  /** Unknown (`null`) unless the viewer owns the video or the server shows dislikes. */
  dislikes: number | null;
  rating: Rating;
}

/** The rating a press of `button` leads to: pressing the active one takes it back. */
export function pressed(current: Rating, button: "like" | "dislike"): Rating {
  return current === button ? "none" : button;
}

/** The counts once the viewer's rating changes from `t.rating` to `next`. */
export function rerate(t: Tally, next: Rating): Tally {
  const delta = (r: Rating, which: Rating) => (r === which ? 1 : 0);
  const likes = Math.max(0, t.likes - delta(t.rating, "like") + delta(next, "like"));
  const dislikes = t.dislikes === null ? null : Math.max(0, t.dislikes - delta(t.rating, "dislike") + delta(next, "dislike"));
  return { likes, dislikes, rating: next };
}

/** A liked-or-not thing with a count (a comment's likes, a channel's subscribers). */
export interface Toggle {
  on: boolean;
  count: number;
}

/** The toggle flipped to `on`, its count following. */
export function toggled(t: Toggle, on: boolean): Toggle {
  if (t.on === on) return t;
  return { on, count: Math.max(0, t.count + (on ? 1 : -1)) };
}

export interface OptimisticHooks<S> {
  /** Tells the server `state`; may answer with the state it now holds (a count as it
   * counted it). */
  send(state: S): Promise<S | void>;
  /** Shows `state`. */
  show(state: S): void;
  /** The server refused: the state shown is back to the last it accepted. */
  failed(error: unknown): void;
  /** Whether two states ask the server for the same thing. */
  same(a: S, b: S): boolean;
}

/**
 * A state shown as soon as it is chosen and sent in the background, one request at a time:
 * presses made while a request is under way send only the last choice afterwards. A refusal
 * puts back the last state the server accepted.
 */
export class Optimistic<S> {
  private confirmed: S;
  private shown: S;
  private busy = false;

  constructor(
    initial: S,
    private hooks: OptimisticHooks<S>,
  ) {
    this.confirmed = initial;
    this.shown = initial;
  }

  get state(): S {
    return this.shown;
  }

  /** Whether a request is under way. */
  get pending(): boolean {
    return this.busy;
  }

  set(next: S): Promise<void> {
    this.shown = next;
    this.hooks.show(next);
    return this.pump();
  }

  /** A state learnt otherwise (a fresh page): taken as both shown and accepted, unless a
   * change is under way. */
  reset(state: S): void {
    if (this.busy) return;
    this.confirmed = state;
    this.shown = state;
    this.hooks.show(state);
  }

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      while (!this.hooks.same(this.shown, this.confirmed)) {
        const target = this.shown;
        let answer: S | void;
        try {
          answer = await this.hooks.send(target);
        } catch (e) {
          this.shown = this.confirmed;
          this.hooks.show(this.confirmed);
          this.hooks.failed(e);
          return;
        }
        this.confirmed = answer ?? target;
        // Nothing chosen meanwhile: the server's word is shown.
        if (this.shown === target && answer) {
          this.shown = answer;
          this.hooks.show(answer);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
