/** Starts the whole system (PGlite, Inngest, the built app) for the browser tests. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startSystem } from "../scripts/system";

const DIST_DIR = ".next-test";

export default async function globalSetup() {
  const root = path.resolve(import.meta.dirname, "..");
  if (!process.env.SKIP_NEXT_BUILD) {
    execFileSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, NEXT_DIST_DIR: DIST_DIR, NEXT_TELEMETRY_DISABLED: "1" },
    });
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-e2e-"));
  const system = await startSystem({
    mode: "start",
    distDir: DIST_DIR,
    dataDir,
    logDir: path.join(dataDir, "logs"),
    log: () => undefined,
    env: { NODE_WARM_TIMEOUT: "0" },
  });
  process.env.E2E_APP_URL = system.appUrl;
  return async () => {
    await system.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  };
}
