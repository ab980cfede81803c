/** Starts the whole system (PGlite, Inngest, the built app) for the browser tests. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, startSystem, TEST_DIST_DIR } from "../scripts/system";
import { SHARED_MACHINE_ENV } from "../tests/harness/shared-machine";
import { removeOrphanUsers } from "../vm-agent/users";

export default async function globalSetup() {
  buildApp();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-e2e-"));
  const system = await startSystem({
    mode: "start",
    distDir: TEST_DIST_DIR,
    dataDir,
    logDir: path.join(dataDir, "logs"),
    log: () => undefined,
    // Tasks complete when the agent's turn ends; e2e/followup.e2e.ts sends its follow-up meanwhile.
    env: { ...SHARED_MACHINE_ENV, NODE_WARM_TIMEOUT: "0", SESSION_IDLE_TIMEOUT: "0" },
  });
  process.env.E2E_APP_URL = system.appUrl;
  return async () => {
    await system.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
    // Workspace users whose node folder went with a test's data folder.
    await removeOrphanUsers();
  };
}
