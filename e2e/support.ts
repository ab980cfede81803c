/** What the browser tests share: systems of their own (signed in to), stopping their leftover nodes, and proving no reload happened. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect, type BrowserContext, type Page } from "@playwright/test";
import { startSystem, TEST_DIST_DIR, type RunningSystem } from "../scripts/system";
import { SHARED_MACHINE_ENV } from "../tests/harness/shared-machine";
import { seedDatabase } from "./database-template";
import { stopLeftoverNodes } from "../tests/harness/leftover-nodes";

export { stopLeftoverNodes };

export type OwnSystem = {
  system: RunningSystem;
  dataDir: string;
  /** Signs the browser context in to this system through a one-time link, as a person does with the one `npm start` prints. */
  signIn(context: BrowserContext): Promise<void>;
  stop(): Promise<void>;
};

/** A system of the test's own (its own data folder, a copy of the run's migrated database, its own ports; `env` over the defaults), for settings the shared one lacks. */
export async function startOwnSystem(prefix: string, env: Record<string, string>): Promise<OwnSystem> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  seedDatabase(dataDir);
  const system = await startSystem({ mode: "start", distDir: TEST_DIST_DIR, dataDir, logDir: path.join(dataDir, "logs"), log: () => undefined, env: { ...SHARED_MACHINE_ENV, ...env } });
  return {
    system,
    dataDir,
    async signIn(context) {
      const signedIn = await context.request.get(system.signInUrl());
      expect(new URL(signedIn.url()).pathname, "where the sign-in link led").toBe("/");
    },
    async stop() {
      await system.stop();
      stopLeftoverNodes(dataDir);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Marks the page; a reload would lose the mark, so its presence later proves none happened. */
export async function markNoReload(page: Page) {
  await page.evaluate(() => ((window as unknown as { noReload: boolean }).noReload = true));
}

export async function expectNoReload(page: Page) {
  expect(await page.evaluate(() => (window as unknown as { noReload?: boolean }).noReload)).toBe(true);
}

/** Full-page shots from the top (the sticky top bar where it belongs) at 1440 and 375 px wide, kept in `dir`. */
export async function screenshots(page: Page, name: string, dir = "test-results/e2e") {
  fs.mkdirSync(dir, { recursive: true });
  for (const [width, height] of [
    [1440, 900],
    [375, 812],
  ] as const) {
    await page.setViewportSize({ width, height });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: path.join(dir, `${name}-${width}.png`), fullPage: true, animations: "disabled" });
  }
  await page.setViewportSize({ width: 1440, height: 900 });
}
