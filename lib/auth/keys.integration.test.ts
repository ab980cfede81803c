/**
 * Two app instances starting together on a fresh database: each opens its own connections to a
 * real PostgreSQL server (as the app does, through Neon's driver) and asks for the signing key at
 * the same moment. Exactly one key is created, and every instance signs with it.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, inject, it } from "vitest";
import { openDatabase, type Database } from "@/db/client";
import { signingKeys } from "@/db/schema";
import { openPostgresDatabase } from "@/tests/harness/postgres-database";
import { newKeyRingEntry, parseKeyRing } from "@/lib/envelope";
import { signingKeyPair } from "./keys";

const opened: Database[] = [];
afterAll(async () => {
  for (const database of opened.reverse()) await database.close();
});

/** Another instance on the same database: its own pool, its own connections. */
async function instance(url: string) {
  const database = await openDatabase({ url, dataDir: fs.mkdtempSync(path.join(os.tmpdir(), "acp-key-race-")), wsProxy: inject("wsProxy") });
  opened.push(database);
  return database;
}

describe("the signing key", () => {
  it("is created once when several instances start on a fresh database at the same moment", async () => {
    const first = await openPostgresDatabase();
    opened.push(first);
    const others = await Promise.all([1, 2, 3, 4, 5].map(() => instance(first.url)));
    const instances = [first, ...others];
    expect(await first.db.select().from(signingKeys)).toEqual([]);

    const ring = parseKeyRing(newKeyRingEntry("k1"));
    const keys = await Promise.all(instances.map((database) => signingKeyPair(database.db, ring)));

    const rows = await first.db.select({ kid: signingKeys.kid }).from(signingKeys);
    expect(rows).toHaveLength(1);
    expect(new Set(keys.map((k) => k.kid))).toEqual(new Set([rows[0]!.kid]));
  });
});
