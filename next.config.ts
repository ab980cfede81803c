import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite ships WASM and reads its own files at run time; bundling it breaks that. esbuild (the
  // vm-agent's build, lib/nodes/artifacts) runs its native binary from its package.
  serverExternalPackages: ["@electric-sql/pglite", "@neondatabase/serverless", "ws", "esbuild"],
  // Each test run builds into its own folder so parallel servers never share `.next`. Empty is unset
  // (lib/contracts/settings.ts; not imported here, the config is loaded before the project's modules resolve).
  distDir: process.env.NEXT_DIST_DIR || ".next",
  experimental: {
    // Each route's code loads on its first request, not every route's at start: a start costs a
    // third less CPU (1.1 of ~3 CPU-s, measured), which the runner's restarts and the tests' many
    // systems pay each time, and an instance holds only the routes it serves.
    preloadEntriesOnStart: false,
  },
};

export default nextConfig;
