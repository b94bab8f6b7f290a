// @vitest-environment happy-dom
// The upload form's limits are the server's, as its OpenAPI document states them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { setToken } from "../src/api";
import { upload } from "../src/pages/upload";

interface Limits {
  maxLength?: number;
  maxItems?: number;
  items?: Limits;
}
const doc = JSON.parse(readFileSync(join(import.meta.dirname, "../openapi.json"), "utf8")) as {
  components: { schemas: Record<string, { properties: Record<string, Limits> }> };
};

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
    const props = doc.components.schemas[schema].properties;
    expect(title?.maxLength, schema).toBe(props.title.maxLength);
    expect(description?.maxLength, schema).toBe(props.description.maxLength);
  }
  expect(title?.maxLength).toBeGreaterThan(0);
  expect(description?.maxLength).toBeGreaterThan(0);
  if (typeof cleanup === "function") cleanup();
});
