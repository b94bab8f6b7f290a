import { defineConfig } from "vitest/config";

// Browser tests: Debian's chromium driven by playwright-core against `kadr all`, which the
// global setup starts on a free port with a throwaway data directory.
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["e2e/server.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    environment: "node",
  },
});
