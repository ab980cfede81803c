import { defineConfig } from "@playwright/test";
import { AUTH_STATE } from "./auth-state";
import { WHOLE_SHARED_SYSTEM } from "./tags";

const wholeSharedSystem = new RegExp(WHOLE_SHARED_SYSTEM);
const TEAM_MODE = "sign-in.e2e.ts";

/** Browser tests drive Debian's Chromium against the whole system on the embedded defaults. */
export default defineConfig({
  testDir: ".",
  testMatch: "*.e2e.ts",
  outputDir: "../test-results/e2e",
  timeout: 120_000,
  // Two files at a time (CI has two cores; `--workers` overrides): the tests mostly wait on their
  // tasks, and each works on repositories, tasks and settings of its own, or on a system of its own.
  workers: 2,
  reporter: [["list"]],
  globalSetup: "./global-setup.ts",
  projects: [
    // A file's tests stay on one worker, and workers take files in this order: the longest file
    // (it starts a team-mode system of its own) goes first, so the two workers end together
    // rather than one running it alone at the end.
    { name: "team mode", testMatch: TEAM_MODE },
    { name: "browser", testIgnore: TEAM_MODE, grepInvert: wholeSharedSystem },
    // A test that counts every task of the shared system runs once the others are done, alone.
    { name: "shared system alone", grep: wholeSharedSystem, dependencies: ["team mode", "browser"] },
  ],
  use: {
    baseURL: process.env.E2E_APP_URL,
    // Signed in to the shared system (global-setup.ts); a test of a system of its own signs in to that one.
    storageState: AUTH_STATE,
    screenshot: "only-on-failure",
    // The pages' pulses and spinners stop (app/globals.css honours the setting): an open live page
    // no longer repaints sixty times a second while a test waits on its task.
    reducedMotion: "reduce",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    },
  },
});
