// @vitest-environment happy-dom
// The language of my videos: chosen in settings (kept in this browser), it is what the upload
// form starts with; the choices are named in the interface's language, as the API takes them.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { setToken } from "../src/api";
import { setLang, setVideoLanguage, VIDEO_LANGUAGES, videoLanguage, videoLanguageChoices } from "../src/i18n";
import { upload } from "../src/pages/upload";

beforeEach(() => {
  setToken("test-token");
  vi.stubGlobal(
    "fetch",
    vi.fn((input: string, init?: RequestInit) => {
      if (input === "/api/v1/me") {
        return Promise.resolve(Response.json({ id: "u", username: "alice", role: "user", verified: true, created_at: "2026-11-23T00:00:00Z" }));
      }
      if (input === "/api/v1/uploads" && init?.method === "OPTIONS") {
        return Promise.resolve(new Response(null, { status: 204, headers: { "Tus-Max-Size": "1048576" } }));
      }
      return Promise.reject(new Error(`unexpected request ${init?.method ?? "GET"} ${input}`));
    }),
  );
});
afterEach(() => {
  vi.unstubAllGlobals();
  setToken(null);
  setVideoLanguage("");
  setLang("en");
});

async function languageField(): Promise<HTMLSelectElement> {
  const root = document.createElement("main");
  await upload(root, [], new URL("http://k.test/upload"));
  return root.querySelector<HTMLSelectElement>("select[name=language]")!;
}

it("starts with none, then with the language chosen in settings", async () => {
  expect(videoLanguage()).toBe("");
  expect((await languageField()).value).toBe("");
  setVideoLanguage("ar");
  expect(videoLanguage()).toBe("ar");
  expect((await languageField()).value).toBe("ar");
});

it("offers BCP 47 tags named in the interface's language, in its alphabetical order", async () => {
  setLang("ru");
  const field = await languageField();
  const options = [...field.options].map((o) => [o.value, o.textContent]);
  expect(options[0]).toEqual(["", "Не указан"]);
  expect(options.slice(1).map(([v]) => v).sort()).toEqual([...VIDEO_LANGUAGES].sort());
  for (const tag of VIDEO_LANGUAGES) expect(tag).toMatch(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/);
  expect(options.find(([v]) => v === "ar")?.[1]).toBe("арабский");
  const names = videoLanguageChoices("ar").map((c) => c.name);
  expect(names).toEqual([...names].sort(new Intl.Collator("ar").compare));
  expect(videoLanguageChoices("ar").find((c) => c.tag === "en")?.name).toBe("الإنجليزية");
});
