/**
 * Migrations on a shared PostgreSQL belong to the deploy step (`npm run db:migrate`): an app
 * instance opening a database that lacks one refuses it, naming what is missing and the command;
 * two deploys at once apply each migration once; a migrated database opens.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { sql } from "drizzle-orm";
import { describe, expect, inject, it } from "vitest";
import { migrateDatabase } from "@/scripts/migrate";
import { createDatabase } from "@/tests/harness/postgres-database";
import { openDatabase, queryRows } from "./client";
import { journal, MigrationsPendingError } from "./migrations";

function freshDatabase() {
  // Empty, not a copy of the run's migrated template: these tests are about migrating it.
  const { url } = createDatabase({ empty: true, prefix: "acp_migrate" });
  return {
    DATABASE_URL: url,
    DATABASE_WS_PROXY: inject("wsProxy"),
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "acp-migrate-")),
  };
}

const open = (env: ReturnType<typeof freshDatabase>) => openDatabase({ url: env.DATABASE_URL, dataDir: env.DATA_DIR, wsProxy: env.DATABASE_WS_PROXY });

describe("migrations on a shared PostgreSQL", () => {
  it("are checked by the app, applied once by concurrent deploys, and then the database opens", async () => {
    const env = freshDatabase();
    const tags = journal().map((entry) => entry.tag);

    const refused = await open(env).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(MigrationsPendingError);
    expect((refused as Error).message).toBe(
      `the database lacks ${tags.length} of this version's migrations (${tags.join(", ")}): run \`npm run db:migrate\` with the same DATABASE_URL (the deploy step) before starting the app`,
    );
    // A route meeting it answers 503 with that message: app/_server/http/respond.test.ts.

    const lines: string[] = [];
    const deploys = await Promise.all([1, 2, 3].map(() => migrateDatabase(env, (line) => lines.push(line))));
    // One deploy applied everything; the others waited for its lock and found nothing to do.
    expect(deploys.map((applied) => applied.length).sort((a, b) => a - b)).toEqual([0, 0, tags.length]);
    expect(lines.filter((line) => line.startsWith("Database migrated: applied 0000_init,"))).toHaveLength(1);
    expect(lines.filter((line) => line === `Database up to date (${tags.length} migrations).`)).toHaveLength(2);

    const database = await open(env);
    try {
      const [row] = await queryRows<{ count: number }>(database.db, sql`select count(*)::int as count from drizzle.__drizzle_migrations`);
      expect(row!.count).toBe(tags.length);
      expect(database.applied).toEqual([]);
    } finally {
      await database.close();
    }
  });
});
