// @vitest-environment happy-dom
// The upload form's limits are the server's, as its OpenAPI document states them.
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { setToken } from "../src/api";
import { upload } from "../src/pages/upload";
import { choices, property } from "./doc";

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
});

it("takes the title and description limits from the OpenAPI document", async () => {
  const root = document.createElement("main");
  const cleanup = await upload(root, [], new URL("http://k.test/upload"));
  const title = root.querySelector<HTMLInputElement>("input[name=title]");
  const description = root.querySelector<HTMLTextAreaElement>("textarea[name=description]");
  for (const schema of ["NewVideo", "VideoPatch"]) {
    expect(title?.maxLength, schema).toBe(property(schema, "title").maxLength);
    expect(description?.maxLength, schema).toBe(property(schema, "description").maxLength);
  }
  expect(title?.maxLength).toBeGreaterThan(0);
  expect(description?.maxLength).toBeGreaterThan(0);
  if (typeof cleanup === "function") cleanup();
});

it("offers the visibilities the OpenAPI document lists", async () => {
  const root = document.createElement("main");
  const cleanup = await upload(root, [], new URL("http://k.test/upload"));
  const options = [...root.querySelectorAll<HTMLOptionElement>("select[name=privacy] option")].map((o) => o.value);
  expect(options).toEqual(choices("NewVideo", "privacy"));
  expect(options).toEqual(choices("VideoPatch", "privacy"));
  if (typeof cleanup === "function") cleanup();
});
