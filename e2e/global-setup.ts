/**
 * Starts the whole system (PGlite, Inngest, the built app) for the browser tests, and signs the
 * browser in the way a person does: through the one-time link `npm start` prints. The cookie it set
 * is the state every test's browser context starts with (playwright.config.ts). Meanwhile it makes
 * the migrated database the tests' own systems start from (database-template.ts); the shared
 * system migrates its empty one, as a first `npm start` does.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { request } from "@playwright/test";
import { buildApp, startSystem, TEST_DIST_DIR } from "../scripts/system";
import { AUTH_STATE } from "./auth-state";
import { makeDatabaseTemplate } from "./database-template";
import { stopLeftoverNodes } from "./support";
import { SHARED_MACHINE_ENV } from "../tests/harness/shared-machine";
import { removeOrphanUsers } from "../vm-agent/users";

export default async function globalSetup() {
  buildApp();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-e2e-"));
  const starting = startSystem({
    mode: "start",
    distDir: TEST_DIST_DIR,
    dataDir,
    logDir: path.join(dataDir, "logs"),
    log: () => undefined,
    // Tasks complete when the agent's turn ends. Nodes stay warm for the next task, as the
    // product's default has them (the teardown stops those still up).
    env: { ...SHARED_MACHINE_ENV, SESSION_IDLE_TIMEOUT: "0" },
  });
  // Side by side: the app's start waits mostly on its own processes.
  const [template, started] = await Promise.allSettled([makeDatabaseTemplate(), starting]);
  if (template.status === "rejected" || started.status === "rejected") {
    if (template.status === "fulfilled") template.value();
    if (started.status === "fulfilled") await started.value.stop();
    throw template.status === "rejected" ? template.reason : (started as PromiseRejectedResult).reason;
  }
  const system = started.value;
  const removeTemplate = template.value;
  process.env.E2E_APP_URL = system.appUrl;
  // The tests that sign in themselves, and scripts' calls, read the token from here.
  process.env.E2E_DATA_DIR = dataDir;
  const browser = await request.newContext();
  const signedIn = await browser.get(system.signInUrl());
  if (!signedIn.ok() || new URL(signedIn.url()).pathname !== "/") throw new Error(`the sign-in link answered ${signedIn.status()} at ${signedIn.url()}`);
  await browser.storageState({ path: AUTH_STATE });
  await browser.dispose();
  return async () => {
    await system.stop();
    stopLeftoverNodes(dataDir);
    fs.rmSync(dataDir, { recursive: true, force: true });
    removeTemplate();
    // Workspace users whose node folder went with a test's data folder.
    await removeOrphanUsers();
  };
}
