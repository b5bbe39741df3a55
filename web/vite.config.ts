import { defineConfig } from "vite";
import preact from "@preact/preset-vite";

// `npm run build` writes dist/ for Reelhub's web_root: index.html plus assets/ with hashed names
// (served as immutable). `npm run dev` proxies the API to a Reelhub on :8080.
const api = "http://localhost:8080";
export default defineConfig({
  plugins: [preact()],
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    // No inline <script> or data: module preloads: the server's CSP allows scripts from 'self' only.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    // hls.js in a chunk of its own: it changes less often than the app, so browsers keep it.
    rollupOptions: { output: { manualChunks: { hls: ["hls.js/light"] } } },
    chunkSizeWarningLimit: 400,
  },
  server: {
    proxy: Object.fromEntries(
      ["/auth", "/users", "/videos", "/hls", "/live", "/stream", "/api", "/payments", "/notifications", "/chats"].map(
        (p) => [p, api],
      ).concat([["/ws", { target: api.replace("http", "ws"), ws: true }]]),
    ),
  },
});
