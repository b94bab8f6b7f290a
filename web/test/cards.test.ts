// @vitest-environment happy-dom
// A video card's stats: views, likes when there are any, and the age; user text as text.
import { describe, expect, it } from "vitest";
import type { Video } from "../src/api";
import { card } from "../src/cards";
import { setLang } from "../src/i18n";

const base = {
  id: "v1",
  title: "<img src=x onerror=alert(1)>",
  description: "",
  tags: [],
  privacy: "public",
  status: "ready",
  progress: 100,
  playable: true,
  channel: { id: "c1", handle: "cats", display_name: "Кошки" },
  is_short: false,
  views: 5,
  likes: 3,
  comments: 0,
  comment_policy: "open",
  created_at: "2026-12-01T10:00:00Z",
} as unknown as Video;

describe("a video card", () => {
  it("shows likes beside the views, in the viewer's language", () => {
    setLang("en");
    expect(card(base).querySelector(".card-stats")?.textContent).toBe("5 views · 3 likes");
    setLang("ru");
    expect(card(base).querySelector(".card-stats")?.textContent).toBe("5 просмотров · 3 лайка");
    expect(card({ ...base, likes: 0 }).querySelector(".card-stats")?.textContent).toBe("5 просмотров");
  });

  it("keeps a title as text", () => {
    const el = card(base);
    expect(el.querySelector("img[src=x]")).toBeNull();
    expect(el.querySelector(".card-title")?.textContent).toBe(base.title);
  });
});
