// Builds the storefront and warehouse pages (web/*.html) into web/dist,
// which the orders binary embeds and serves at --web-addr. The output is
// committed; CI rebuilds it and fails when it differs from the sources.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const web = resolve(import.meta.dirname, "web");

export default defineConfig({
  root: web,
  base: "/",
  build: {
    outDir: resolve(web, "dist"),
    emptyOutDir: true,
    // No source maps or build-time stamps: the same sources give the same bytes.
    sourcemap: false,
    rollupOptions: {
      input: {
        storefront: resolve(web, "index.html"),
        warehouse: resolve(web, "warehouse.html"),
      },
    },
  },
});
