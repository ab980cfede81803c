/**
 * `npm run db:migrate`: the deploy step. Applies this version's pending migrations to the database
 * the app is configured with (DATABASE_URL, or the embedded PGlite in DATA_DIR), under a lock so
 * that two deploys never run them at once, and says what it applied. App instances on a shared
 * PostgreSQL only check (db/migrations.ts); the runner (`npm start`) runs this before the app.
 */
import path from "node:path";
import { openDatabase } from "../db/client";
import { journal } from "../db/migrations";
import { parseConfig } from "../lib/config";
import { prepareDataDir } from "../lib/data-dir";

export async function migrateDatabase(env: Record<string, string | undefined>, log: (line: string) => void) {
  const c = parseConfig(env);
  // The embedded database is made in the data folder: only in one that is the control plane's.
  if (!c.DATABASE_URL) prepareDataDir(c.DATA_DIR);
  const database = await openDatabase({ url: c.DATABASE_URL, directUrl: c.DATABASE_DIRECT_URL, dataDir: c.DATA_DIR, wsProxy: c.DATABASE_WS_PROXY, migrations: "apply" });
  await database.close();
  const total = journal().length;
  log(
    database.applied.length
      ? `Database migrated: applied ${database.applied.join(", ")} (${total} migrations in all).`
      : `Database up to date (${total} migrations).`,
  );
  return database.applied;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  migrateDatabase(process.env, (line) => console.error(line)).catch((error: Error) => {
    console.error(`Could not migrate the database: ${error.message}`);
    process.exit(1);
  });
}
