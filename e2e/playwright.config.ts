import { defineConfig } from "@playwright/test";
import { AUTH_STATE } from "./auth-state";

/** Browser tests drive Debian's Chromium against the whole system on the embedded defaults. */
export default defineConfig({
  testDir: ".",
  testMatch: "*.e2e.ts",
  outputDir: "../test-results/e2e",
  timeout: 120_000,
  workers: 1,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  use: {
    baseURL: process.env.E2E_APP_URL,
    // Signed in to the shared system (global-setup.ts); a test of a system of its own signs in to that one.
    storageState: AUTH_STATE,
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
