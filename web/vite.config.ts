/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// The built UI is served by `kadr api` from `api.web_dir` (web/dist by default); during
// development `npm run dev` proxies the API and media to a running kadr.
const backend = process.env.KADR_URL ?? "http://127.0.0.1:8080";

export default defineConfig({
  build: { outDir: "dist", sourcemap: true, assetsDir: "assets" },
  server: {
    proxy: { "/api": backend, "/media": backend },
  },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
