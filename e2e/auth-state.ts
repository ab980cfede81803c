/**
 * Where the global setup keeps the browser's signed-in state for the shared system (local mode: the
 * session cookie its one-time sign-in link set); every test's browser context starts from it.
 */
import path from "node:path";

export const AUTH_STATE = path.resolve(import.meta.dirname, "../test-results/e2e-auth/local.json");
