/**
 * One migrated PGlite database per browser-test run, closed, that every system the run starts (the
 * shared one and each test's own) begins as a copy of: a fresh data folder's database runs initdb and
 * every migration at the app's first request (10 s and more on a loaded two-core machine); a copy
 * opens in a second through the same `openDatabase`, which finds nothing to migrate. The migrations
 * on an empty database are tested on their own (db/migrations.integration.test.ts).
 */
import { copyPgliteTemplate, makePgliteTemplate } from "../tests/harness/pglite-template";

/** Where global-setup.ts tells the test workers (its environment is theirs) the template is. */
const TEMPLATE_VARIABLE = "E2E_PGLITE_TEMPLATE";

/** Makes the run's template and publishes its folder to the workers; the function returned removes it. */
export async function makeDatabaseTemplate(): Promise<() => void> {
  const template = await makePgliteTemplate("acp-e2e-db-template-");
  process.env[TEMPLATE_VARIABLE] = template.dir;
  return template.remove;
}

/** Copies the run's migrated database into a new system's data folder; without a template (a run without global-setup, as e2e/shots.config.ts's) the app makes its own. */
export function seedDatabase(dataDir: string) {
  const template = process.env[TEMPLATE_VARIABLE];
  if (template) copyPgliteTemplate(template, dataDir);
}
