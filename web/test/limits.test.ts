// Every limit and choice the forms use is the document's.
import { describe, expect, it } from "vitest";
import { accountLimits, isPrivacy, privacyChoices, reasonLimit, videoLimits } from "../src/limits";
import { choices, property } from "./doc";

describe("limits from the OpenAPI document", () => {
  it("of a video, in both NewVideo and VideoPatch", () => {
    for (const schema of ["NewVideo", "VideoPatch"]) {
      expect(videoLimits.title, schema).toBe(property(schema, "title").maxLength);
      expect(videoLimits.description, schema).toBe(property(schema, "description").maxLength);
      expect(videoLimits.tags, schema).toBe(property(schema, "tags").maxItems);
      expect(videoLimits.tag, schema).toBe(property(schema, "tags").items?.maxLength);
    }
  });

  it("of a moderator's reason", () => {
    expect(reasonLimit).toBe(property("Decision", "reason").maxLength);
  });

  it("of a new account", () => {
    expect(accountLimits.username).toEqual({ min: property("Register", "username").minLength, max: property("Register", "username").maxLength });
    expect(accountLimits.password).toEqual({ min: property("Register", "password").minLength, max: property("Register", "password").maxLength });
  });

  it("are all stated (a missing one would be undefined, and the input unlimited)", () => {
    const all = [...Object.values(videoLimits), reasonLimit, ...Object.values(accountLimits).flatMap((l) => [l.min, l.max])];
    for (const n of all) expect(n).toBeGreaterThan(0);
  });

  it("offer the document's visibilities, in its order, for new videos, edits and what videos have", () => {
    expect(privacyChoices).toEqual(choices("NewVideo", "privacy"));
    expect(privacyChoices).toEqual(choices("VideoPatch", "privacy"));
    expect(privacyChoices).toEqual(choices("VideoJson", "privacy"));
    expect(privacyChoices.length).toBeGreaterThan(0);
  });

  it("take only those visibilities from elsewhere", () => {
    for (const p of privacyChoices) expect(isPrivacy(p)).toBe(true);
    for (const v of ["", "Public", "friends", "toString", "__proto__", null, undefined, 1]) expect(isPrivacy(v), String(v)).toBe(false);
  });
});
