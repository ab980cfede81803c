/**
 * Which of this version's migrations a database lacks. A shared PostgreSQL (Neon, or any server)
 * is migrated by the deploy command (`npm run db:migrate`, scripts/migrate.ts) before the app
 * starts, never by an app instance on a request: two instances would race, and a user would wait.
 * The app only checks, and refuses to serve a database that lacks a migration it needs.
 */
import fs from "node:fs";
import path from "node:path";
import { sql } from "drizzle-orm";
import type { Executor } from "./client";

export const MIGRATIONS_FOLDER = path.join(process.cwd(), "db", "migrations");

/** Rows of raw SQL on either driver (client.ts's queryRows, which imports this module). */
const rows = async <T>(executor: Executor, query: ReturnType<typeof sql>) => ((await executor.execute(query)) as unknown as { rows: T[] }).rows;

type JournalEntry = { idx: number; when: number; tag: string };

export class MigrationsPendingError extends Error {
  override readonly name = "MigrationsPendingError";
  constructor(readonly pending: string[]) {
    super(
      `the database lacks ${pending.length} of this version's migrations (${pending.join(", ")}): ` +
        "run `npm run db:migrate` with the same DATABASE_URL (the deploy step) before starting the app",
    );
  }
}

export function journal(folder = MIGRATIONS_FOLDER): JournalEntry[] {
  const parsed = JSON.parse(fs.readFileSync(path.join(folder, "meta", "_journal.json"), "utf8")) as { entries: JournalEntry[] };
  return parsed.entries;
}

/** The tags of the migrations not applied yet (drizzle records each applied one's `when` as `created_at`). */
export async function pendingMigrations(executor: Executor, folder = MIGRATIONS_FOLDER): Promise<string[]> {
  const [table] = await rows<{ exists: boolean }>(executor, sql`select to_regclass('drizzle.__drizzle_migrations') is not null as exists`);
  let newest = -1;
  if (table?.exists) {
    const [row] = await rows<{ newest: string | number | null }>(executor, sql`select max(created_at) as newest from drizzle.__drizzle_migrations`);
    newest = row?.newest === null || row?.newest === undefined ? -1 : Number(row.newest);
  }
  return journal(folder)
    .filter((entry) => entry.when > newest)
    .map((entry) => entry.tag);
}

/** Throws MigrationsPendingError when the database lacks any of this version's migrations. */
export async function assertMigrated(executor: Executor, folder = MIGRATIONS_FOLDER) {
  const pending = await pendingMigrations(executor, folder);
  if (pending.length) throw new MigrationsPendingError(pending);
}
