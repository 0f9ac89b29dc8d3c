// The app is served under /app/ (same origin as the API locally; CloudFront deployed).
// No inline script or style ends up in index.html: the CSP forbids both.
import { defineConfig } from "vite";

export default defineConfig({
  base: "/app/",
  build: { outDir: "dist", emptyOutDir: true, modulePreload: { polyfill: false }, assetsInlineLimit: 0 },
});
