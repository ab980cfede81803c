/**
 * One migrated PGlite database per browser-test run, closed, that every system the run starts (the
 * shared one and each test's own) begins as a copy of: a fresh data folder's database runs initdb and
 * every migration at the app's first request (10 s and more on a loaded two-core machine); a copy
 * opens in a second through the same `openDatabase`, which finds nothing to migrate. The migrations
 * on an empty database are tested on their own (db/migrations.integration.test.ts).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDatabase } from "../db/client";

/** Where global-setup.ts tells the test workers (its environment is theirs) the template is. */
const TEMPLATE_VARIABLE = "E2E_PGLITE_TEMPLATE";

/** Makes the run's template and publishes its folder to the workers; the function returned removes it. */
export async function makeDatabaseTemplate(): Promise<() => void> {
  const template = fs.mkdtempSync(path.join(os.tmpdir(), "acp-e2e-db-template-"));
  const database = await openDatabase({ dataDir: template });
  await database.close();
  process.env[TEMPLATE_VARIABLE] = template;
  return () => fs.rmSync(template, { recursive: true, force: true });
}

/** Copies the run's migrated database into a new system's data folder; without a template (a run without global-setup, as e2e/shots.config.ts's) the app makes its own. */
export function seedDatabase(dataDir: string) {
  const template = process.env[TEMPLATE_VARIABLE];
  if (template) fs.cpSync(path.join(template, "pglite"), path.join(dataDir, "pglite"), { recursive: true });
}
