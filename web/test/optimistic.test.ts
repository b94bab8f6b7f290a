// Counts that change on screen before the server folds them, and go back when refused.
import { describe, expect, it } from "vitest";
import { Optimistic, pressed, rerate, toggled, type Tally, type Toggle } from "../src/optimistic";

describe("ratings", () => {
  it("a press sets a rating, a second press takes it back, the other button switches", () => {
    expect(pressed("none", "like")).toBe("like");
    expect(pressed("like", "like")).toBe("none");
    expect(pressed("like", "dislike")).toBe("dislike");
    expect(pressed("dislike", "dislike")).toBe("none");
  });

  it("the counts follow the viewer's rating", () => {
    const t: Tally = { likes: 10, dislikes: 2, rating: "none" };
    expect(rerate(t, "like")).toEqual({ likes: 11, dislikes: 2, rating: "like" });
    expect(rerate({ likes: 11, dislikes: 2, rating: "like" }, "dislike")).toEqual({ likes: 10, dislikes: 3, rating: "dislike" });
    expect(rerate({ likes: 10, dislikes: 3, rating: "dislike" }, "none")).toEqual({ likes: 10, dislikes: 2, rating: "none" });
    expect(rerate(t, "none")).toEqual(t);
  });

  it("unknown dislikes stay unknown, and no count goes below zero", () => {
    expect(rerate({ likes: 0, dislikes: null, rating: "none" }, "dislike")).toEqual({ likes: 0, dislikes: null, rating: "dislike" });
    // A count folded before the viewer's own rating reached it.
    expect(rerate({ likes: 0, dislikes: 0, rating: "like" }, "none")).toEqual({ likes: 0, dislikes: 0, rating: "none" });
  });

  it("toggles count themselves", () => {
    expect(toggled({ on: false, count: 4 }, true)).toEqual({ on: true, count: 5 });
    expect(toggled({ on: true, count: 5 }, false)).toEqual({ on: false, count: 4 });
    expect(toggled({ on: true, count: 0 }, false)).toEqual({ on: false, count: 0 });
    const same = { on: true, count: 3 };
    expect(toggled(same, true)).toBe(same);
  });
});

/** A server whose answers the test releases one by one. */
function server<S>() {
  const calls: { state: S; ok: (answer?: S) => void; fail: (e: unknown) => void }[] = [];
  const shown: S[] = [];
  const errors: unknown[] = [];
  return {
    calls,
    shown,
    errors,
    hooks: {
      send: (state: S) => new Promise<S | void>((ok, fail) => calls.push({ state, ok, fail })),
      show: (s: S) => void shown.push(s),
      failed: (e: unknown) => void errors.push(e),
      same: (a: S, b: S) => JSON.stringify(a) === JSON.stringify(b),
    },
  };
}
const tick = () => new Promise((ok) => setTimeout(ok, 0));

describe("optimistic state", () => {
  it("shows a choice at once and sends it", async () => {
    const s = server<Toggle>();
    const o = new Optimistic<Toggle>({ on: false, count: 1 }, { ...s.hooks, same: (a, b) => a.on === b.on });
    const done = o.set({ on: true, count: 2 });
    expect(s.shown).toEqual([{ on: true, count: 2 }]);
    expect(o.state).toEqual({ on: true, count: 2 });
    expect(o.pending).toBe(true);
    expect(s.calls.map((c) => c.state)).toEqual([{ on: true, count: 2 }]);
    s.calls[0].ok();
    await done;
    expect(o.pending).toBe(false);
    expect(o.state).toEqual({ on: true, count: 2 });
  });

  it("sends one request at a time, and only the last of the choices made meanwhile", async () => {
    const s = server<Toggle>();
    const o = new Optimistic<Toggle>({ on: false, count: 0 }, { ...s.hooks, same: (a, b) => a.on === b.on });
    void o.set({ on: true, count: 1 });
    void o.set({ on: false, count: 0 });
    void o.set({ on: true, count: 1 });
    expect(s.calls).toHaveLength(1);
    s.calls[0].ok();
    await tick();
    // The last choice equals what the server now has: nothing more to send.
    expect(s.calls).toHaveLength(1);

    void o.set({ on: false, count: 0 });
    void o.set({ on: true, count: 1 });
    void o.set({ on: false, count: 0 });
    expect(s.calls).toHaveLength(2);
    s.calls[1].ok();
    await tick();
    // The request under way said "off"; the last choice is "off" too: nothing more.
    expect(s.calls).toHaveLength(2);
    expect(o.state.on).toBe(false);
  });

  it("sends the last choice once the request under way is answered", async () => {
    const s = server<Tally>();
    const o = new Optimistic<Tally>({ likes: 0, dislikes: null, rating: "none" }, { ...s.hooks, same: (a, b) => a.rating === b.rating });
    void o.set({ likes: 1, dislikes: null, rating: "like" });
    void o.set({ likes: 0, dislikes: null, rating: "dislike" });
    s.calls[0].ok();
    await tick();
    expect(s.calls.map((c) => c.state.rating)).toEqual(["like", "dislike"]);
    s.calls[1].ok();
    await tick();
    expect(o.pending).toBe(false);
    expect(o.state.rating).toBe("dislike");
  });

  it("puts back what the server last accepted when it refuses", async () => {
    const s = server<Toggle>();
    const o = new Optimistic<Toggle>({ on: false, count: 7 }, { ...s.hooks, same: (a, b) => a.on === b.on });
    const done = o.set({ on: true, count: 8 });
    const refusal = new Error("429");
    s.calls[0].fail(refusal);
    await done;
    expect(o.state).toEqual({ on: false, count: 7 });
    expect(s.shown.at(-1)).toEqual({ on: false, count: 7 });
    expect(s.errors).toEqual([refusal]);
    expect(o.pending).toBe(false);
  });

  it("takes the server's answer (its count) when nothing was chosen meanwhile", async () => {
    const s = server<Toggle>();
    const o = new Optimistic<Toggle>({ on: false, count: 7 }, { ...s.hooks, same: (a, b) => a.on === b.on });
    const done = o.set({ on: true, count: 8 });
    s.calls[0].ok({ on: true, count: 12 });
    await done;
    expect(o.state).toEqual({ on: true, count: 12 });
    expect(s.shown.at(-1)).toEqual({ on: true, count: 12 });
  });

  it("takes a state learnt elsewhere, unless a change is under way", async () => {
    const s = server<Tally>();
    const o = new Optimistic<Tally>({ likes: 3, dislikes: null, rating: "none" }, { ...s.hooks, same: (a, b) => a.rating === b.rating });
    o.reset({ likes: 3, dislikes: null, rating: "like" });
    expect(o.state.rating).toBe("like");
    expect(s.calls).toHaveLength(0);
    const done = o.set({ likes: 2, dislikes: null, rating: "none" });
    o.reset({ likes: 3, dislikes: null, rating: "like" });
    expect(o.state.rating).toBe("none");
    s.calls[0].ok();
    await done;
    expect(o.state.rating).toBe("none");
  });
});
