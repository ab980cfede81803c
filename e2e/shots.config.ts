import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

/**
 * Screenshots of every page at 375 and 1440 px, to compare a change to the styles by eye; not part of
 * the browser tests. `SHOTS_DIR=/tmp/shots npx playwright test -c e2e/shots.config.ts`
 */
export default defineConfig({
  ...base,
  testMatch: "page-shots.ts",
  globalSetup: undefined,
  timeout: 300_000,
  use: { ...base.use, storageState: undefined, baseURL: undefined },
});
