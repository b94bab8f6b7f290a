// @vitest-environment happy-dom
// The pure logic behind playlists, history and related videos: a reorder and the move the API
// takes for it, where a drop lands, how much of a video was watched, the next entry, the
// videos watched in this tab; and the words for the new problems and notifications.
import { describe, expect, it } from "vitest";
import { ApiError, sessionName, type Notification } from "../src/api";
import { t } from "../src/i18n";
import { passwordLimits, playlistLimits, reportDetailsLimit, reportReasons } from "../src/limits";
import { dropIndex, EXCLUDE_MAX, markWatched, moveItem, nextInList, remember, watchedFraction, watchedInTab } from "../src/lists";
import { dateIn, problemText } from "../src/messages";
import { quotaBytes } from "../src/pages/admin";
import { notificationHref, notificationText } from "../src/pages/notifications";
import { isReportReason } from "../src/safety";
import { choices, property } from "./doc";

describe("moveItem", () => {
  const ids = ["a", "b", "c", "d"];
  it("moves an item down and names the one it now follows", () => {
    expect(moveItem(ids, 0, 2)).toEqual({ ids: ["b", "c", "a", "d"], after: "c" });
    expect(moveItem(ids, 1, 3)).toEqual({ ids: ["a", "c", "d", "b"], after: "d" });
  });
  it("moves an item up; to the top it follows nothing", () => {
    expect(moveItem(ids, 3, 1)).toEqual({ ids: ["a", "d", "b", "c"], after: "a" });
    expect(moveItem(ids, 2, 0)).toEqual({ ids: ["c", "a", "b", "d"], after: null });
  });
  it("keeps targets inside the list and does nothing for no move", () => {
    expect(moveItem(ids, 0, -1)).toBeNull();
    expect(moveItem(ids, 3, 9)).toBeNull();
    expect(moveItem(ids, 2, 2)).toBeNull();
    expect(moveItem(ids, 7, 0)).toBeNull();
    expect(moveItem(ids, 0, 99)).toEqual({ ids: ["b", "c", "d", "a"], after: "d" });
  });
  it("does not change the list it was given", () => {
    const copy = [...ids];
    moveItem(copy, 0, 3);
    expect(copy).toEqual(ids);
  });
});

describe("dropIndex", () => {
  it("drops before an item on its upper half and after it on its lower half", () => {
    // Dragging the last of four (d) onto the first (a).
    expect(moveItem(["a", "b", "c", "d"], 3, dropIndex(3, 0, true))?.ids).toEqual(["d", "a", "b", "c"]);
    expect(moveItem(["a", "b", "c", "d"], 3, dropIndex(3, 0, false))?.ids).toEqual(["a", "d", "b", "c"]);
    // Dragging the first down onto the third.
    expect(moveItem(["a", "b", "c", "d"], 0, dropIndex(0, 2, true))?.ids).toEqual(["b", "a", "c", "d"]);
    expect(moveItem(["a", "b", "c", "d"], 0, dropIndex(0, 2, false))?.ids).toEqual(["b", "c", "a", "d"]);
  });
  it("is no move when dropped next to where it is", () => {
    expect(moveItem(["a", "b", "c"], 1, dropIndex(1, 0, false))).toBeNull();
    expect(moveItem(["a", "b", "c"], 1, dropIndex(1, 2, true))).toBeNull();
  });
});

describe("history", () => {
  it("tells how much was watched", () => {
    expect(watchedFraction(30, 120)).toBe(0.25);
    expect(watchedFraction(200, 120)).toBe(1);
    expect(watchedFraction(null, 120)).toBe(0);
    expect(watchedFraction(30, null)).toBe(0);
    expect(watchedFraction(30, 0)).toBe(0);
  });
  it("finds a playlist's next entry", () => {
    expect(nextInList(["a", "b", "c"], "a")).toBe("b");
    expect(nextInList(["a", "b", "c"], "c")).toBeNull();
    expect(nextInList(["a", "b", "c"], "x")).toBeNull();
  });
  it("remembers the videos watched in this tab, each once, the latest last, at most the API's 50", () => {
    expect(remember(["a", "b"], "a")).toEqual(["b", "a"]);
    const many = Array.from({ length: 60 }, (_, i) => `v${i}`);
    const kept = many.reduce<string[]>((l, id) => remember(l, id), []);
    expect(kept).toHaveLength(EXCLUDE_MAX);
    expect(kept[EXCLUDE_MAX - 1]).toBe("v59");
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v) };
    markWatched("x", storage);
    markWatched("y", storage);
    markWatched("x", storage);
    expect(watchedInTab(storage)).toEqual(["y", "x"]);
    store.set("kadr.watched", "not json");
    expect(watchedInTab(storage)).toEqual([]);
  });
});

describe("limits from the document", () => {
  it("match openapi.json", () => {
    expect(playlistLimits.title).toBe(property("PlaylistCreate", "title").maxLength);
    expect(playlistLimits.description).toBe(property("PlaylistCreate", "description").maxLength);
    expect(reportDetailsLimit).toBe(property("NewReport", "details").maxLength);
    expect(passwordLimits.min).toBe(property("PasswordChange", "new_password").minLength);
    expect(reportReasons.filter(isReportReason)).toEqual(choices("NewReport", "reason"));
  });
  it("have words for every reason in both languages", () => {
    for (const r of choices("NewReport", "reason")) {
      const key = `report.reason.${r}` as Parameters<typeof t>[0];
      expect(t(key, {}, "en")).not.toBe("");
      expect(t(key, {}, "ru")).not.toBe(t(key, {}, "en"));
    }
  });
});

describe("words", () => {
  it("for the new problems", () => {
    expect(problemText(new ApiError(409, "already_reported", "x"))).toBe("You have already reported this; moderators will look at it.");
    expect(problemText(new ApiError(401, "invalid_credentials", "x"))).toBe("Wrong username or password.");
    expect(problemText(new ApiError(401, "account_banned", "x"))).toBe("This account is banned.");
    expect(problemText(new ApiError(403, "wrong_password", "x"))).toBe("The current password is wrong.");
    expect(problemText(new ApiError(501, "mail_off", "x"))).toContain("does not send mail");
    expect(problemText(new ApiError(429, "too_many_mails", "x", 600))).toBe("Too many mails were asked for; try again in 10 min.");
    const suspended = problemText(new ApiError(401, "account_suspended", "The account is suspended until 2027-01-05T10:00:00Z"));
    expect(suspended).toMatch(/^This account is suspended until .*2027/);
    expect(problemText(new ApiError(401, "account_suspended", "suspended"))).toBe("This account is suspended.");
    // Other 401s still ask to sign in.
    expect(problemText(new ApiError(401, "unauthorized", "x"))).toBe("Sign in first.");
  });
  it("reads a date out of a server's detail", () => {
    expect(dateIn("until 2027-01-05T10:00:00Z", "en")).toMatch(/5 January 2027/);
    expect(dateIn("no date here")).toBeNull();
  });
  it("for the new notifications", () => {
    const n = (type: Notification["type"], data: Record<string, unknown>): Notification =>
      ({ id: 1, type, created_at: "2026-11-23T00:00:00Z", read: false, data });
    expect(notificationText(n("report_resolved", { outcome: "removed", target_type: "comment" }))).toBe("Thanks to your report, moderators took action on a comment.");
    expect(notificationText(n("report_resolved", { outcome: "dismissed", target_type: "video" }))).toBe(
      "Moderators looked at your report about a video and found nothing against the rules.",
    );
    expect(notificationText(n("warning", { reason: "Be kind" }))).toBe("You received a warning from the moderators. Reason: Be kind");
    expect(notificationText(n("standing", { standing: "banned", reason: "spam" }))).toBe("Your account is banned. Reason: spam");
    expect(notificationText(n("standing", { standing: "suspended", until: "2027-01-05T10:00:00Z", reason: null }))).toMatch(/^Your account is suspended until .*2027.*\.$/);
    expect(notificationText(n("standing", { standing: "active" }))).toBe("Your account is active again.");
    expect(notificationHref(n("standing", { standing: "active" }))).toBe("/settings");
    const rejected = n("moderation", { decision: "rejected", reason: "Ads", playlist_id: "p1", playlist_title: "Mine" });
    expect(notificationText(rejected)).toBe("Your playlist “Mine” was rejected by moderation: Ads");
    expect(notificationHref(rejected)).toBe("/playlist/p1");
    expect(notificationText(n("moderation", { decision: "approved", playlist_id: "p1", playlist_title: "Mine" }))).toBe("Your playlist “Mine” was approved and is now visible");
    expect(notificationHref(n("report_resolved", { outcome: "removed" }))).toBeNull();
  });
});

describe("small helpers", () => {
  it("turns a quota in GiB into bytes (empty: the default; nonsense: refused)", () => {
    expect(quotaBytes("")).toBeNull();
    expect(quotaBytes("2")).toBe(2 * 1024 ** 3);
    expect(quotaBytes("0,5")).toBe(512 * 1024 ** 2);
    expect(quotaBytes("0")).toBe(0);
    expect(quotaBytes("-1")).toBeUndefined();
    expect(quotaBytes("lots")).toBeUndefined();
  });
  it("names a session by its browser and system", () => {
    expect(sessionName("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")).toBe("Chrome, Linux");
    expect(sessionName("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1")).toBe("Safari, iOS");
    expect(sessionName("")).toBe("Browser");
  });
});
