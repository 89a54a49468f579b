// The console is static files: `vite build console` writes them to console/dist, which the local stack
// serves at the API port's root and `aws s3 sync` ships to the console bucket (README, "Deploying").
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  // Preact's automatic JSX runtime, without a plugin.
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
});
