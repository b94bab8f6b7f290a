/// <reference types="vitest/config" />
import { resolve } from "node:path";
import { defineConfig, type Plugin } from "vite";

// The built UI is served by `kadr api` from `api.web_dir` (web/dist by default); during
// development `npm run dev` proxies the API and media to a running kadr.
const backend = process.env.KADR_URL ?? "http://127.0.0.1:8080";

/** In development, `/embed/…` is the embed page, as the server answers it (its own routes
 * serve embed.html from the built UI). */
const embedPages: Plugin = {
  name: "kadr-embed-pages",
  configureServer(server) {
    server.middlewares.use((req, _res, next) => {
      if (req.url && /^\/embed\/[^.]*$/.test(req.url.split("?")[0])) req.url = "/embed.html";
      next();
    });
  },
};

export default defineConfig({
  plugins: [embedPages],
  build: {
    outDir: "dist",
    sourcemap: true,
    assetsDir: "assets",
    // Two pages: the app, and the embed (the player alone, in other sites' frames).
    rollupOptions: {
      input: { main: resolve(import.meta.dirname, "index.html"), embed: resolve(import.meta.dirname, "embed.html") },
      // hls.js in a file of its own: the biggest part by far, and it changes only with its
      // version, so browsers keep it across our releases.
      output: {
        manualChunks: (id) => (id.includes("/node_modules/hls.js/") ? "hls" : undefined),
      },
    },
  },
  server: {
    proxy: { "/api": backend, "/media": backend },
  },
  test: { include: ["test/**/*.test.ts"], environment: "node" },
});
