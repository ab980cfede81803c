import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite ships WASM and reads its own files at run time; bundling it breaks that. esbuild (the
  // vm-agent's build, lib/nodes/artifacts) runs its native binary from its package.
  serverExternalPackages: ["@electric-sql/pglite", "@neondatabase/serverless", "ws", "esbuild"],
  // Each test run builds into its own folder so parallel servers never share `.next`. Empty is unset
  // (lib/contracts/settings.ts; not imported here, the config is loaded before the project's modules resolve).
  distDir: process.env.NEXT_DIST_DIR || ".next",
};

export default nextConfig;
