import { openDatabase, type Database } from "@/db/client";
import { config } from "./config";

const globalForDb = globalThis as typeof globalThis & { __database?: Promise<Database> };

/**
 * The process's one database. PGlite allows one open per data folder per process, so the handle
 * lives on globalThis where a dev-server hot reload cannot open a second.
 */
export function database(): Promise<Database> {
  if (!globalForDb.__database) {
    const c = config();
    globalForDb.__database = openDatabase({ url: c.DATABASE_URL, directUrl: c.DATABASE_DIRECT_URL, dataDir: c.DATA_DIR, wsProxy: c.DATABASE_WS_PROXY });
    globalForDb.__database.catch(() => {
      globalForDb.__database = undefined;
    });
  }
  return globalForDb.__database;
}

export async function getDb() {
  return (await database()).db;
}
