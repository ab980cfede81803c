import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // PGlite ships WASM and reads its own files at run time; bundling it breaks that.
  serverExternalPackages: ["@electric-sql/pglite", "@neondatabase/serverless", "ws"],
  // Each test run builds into its own folder so parallel servers never share `.next`.
  distDir: process.env.NEXT_DIST_DIR ?? ".next",
};

export default nextConfig;
