/**
 * Opens the database: embedded PGlite when no URL is configured, Neon's serverless driver for a
 * postgres:// URL. Migrations run once per process before the first query. `listen` gives the
 * live channel (Postgres LISTEN/NOTIFY) on either driver.
 */
import fs from "node:fs";
import path from "node:path";
import { sql, type SQL } from "drizzle-orm";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { assertMigrated, MIGRATIONS_FOLDER, pendingMigrations } from "./migrations";
import * as schema from "./schema";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];
/** Either the database or an open transaction: what queries take. */
export type Executor = Db | Tx;

/** Runs raw SQL on either driver and returns its rows (both drivers answer `{ rows }`). */
export async function queryRows<T>(executor: Executor, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** Values quoted for an `in (…)` of raw SQL (a status set, say). */
export const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v.replace(/'/g, "''")}'`).join(","));

export type Database = {
  db: Db;
  /**
   * Subscribes to a NOTIFY channel; resolves once the subscription is live. If the connection
   * drops (the server restarted), it reconnects and subscribes again, then calls `onResubscribed`:
   * notifications sent meanwhile were missed, so the listener should re-read what it shows.
   */
  listen(channel: string, onPayload: (payload: string) => void, onResubscribed?: () => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
  /** The migrations this open applied (none when it only checked). */
  applied: string[];
};

export type DatabaseOptions = {
  /** postgres:// URL; unset means embedded PGlite in `dataDir`. */
  url?: string;
  /**
   * `apply` runs the pending migrations (under a lock, so two processes never run them at once);
   * `check` refuses a database that lacks one (MigrationsPendingError). Default: `apply` for the
   * embedded PGlite, which only this process opens; `check` for a URL, which the deploy command
   * (`npm run db:migrate`) migrates before any app instance starts.
   */
  migrations?: "apply" | "check";
  dataDir: string;
  /**
   * A direct (non-pooled) URL of the same database, for the sessions that must stay one session:
   * LISTEN, and the migrations' advisory lock. On Neon: the URL without `-pooler`. Default: `url`.
   */
  directUrl?: string;
  /** For a plain PostgreSQL behind a WebSocket relay (tests, self-hosting): host:port/path of the relay. */
  wsProxy?: string;
};

/** Where the embedded database lives in a data folder. */
export const pgliteFolder = (dataDir: string) => path.resolve(dataDir, "pglite");

async function openPglite(dataDir: string): Promise<Database> {
  const { PGlite } = await import("@electric-sql/pglite");
  const { drizzle } = await import("drizzle-orm/pglite");
  const { migrate } = await import("drizzle-orm/pglite/migrator");
  const folder = pgliteFolder(dataDir);
  // Owner-only, also when an earlier version made it: agents on this machine (local nodes) must not read it.
  fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
  fs.chmodSync(folder, 0o700);
  const client = await PGlite.create(folder);
  const db = drizzle(client, { schema });
  const applied = await pendingMigrations(db as unknown as Db);
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    applied,
    db: db as unknown as Db, // PgliteDatabase is a PgDatabase; the cast drops the driver-specific brand.
    listen: async (channel, onPayload) => {
      const unlisten = await client.listen(channel, onPayload);
      return unlisten;
    },
    close: () => client.close(),
  };
}

/** An arbitrary constant: the advisory lock the migrations run under, the same in every process. */
const MIGRATIONS_LOCK = 7_240_113;

async function openNeon(url: string, directUrl: string, wsProxy: string | undefined, migrations: "apply" | "check"): Promise<Database> {
  const { Pool, Client, neonConfig } = await import("@neondatabase/serverless");
  const { drizzle } = await import("drizzle-orm/neon-serverless");
  const { migrate } = await import("drizzle-orm/neon-serverless/migrator");
  const { WebSocket } = await import("ws");
  neonConfig.webSocketConstructor = WebSocket;
  if (wsProxy) {
    // A plain PostgreSQL reached through a local relay speaks neither TLS nor Neon's pipelining.
    neonConfig.wsProxy = (host, port) => `${wsProxy}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = false;
    neonConfig.pipelineTLS = false;
    neonConfig.pipelineConnect = false;
  }
  const pool = new Pool({ connectionString: url });
  // An idle connection the server dropped (a restart) errors here; the pool replaces it. Unheard, it would end the process.
  pool.on("error", (error: Error) => console.error(JSON.stringify({ level: "warn", msg: "database connection dropped", error: error.message })));
  const db = drizzle(pool, { schema });
  let applied: string[] = [];
  if (migrations === "apply") {
    // One session holds the lock for the whole run: a second deploy waits, then finds nothing to do.
    const session = new Client({ connectionString: directUrl });
    await session.connect();
    try {
      await session.query(`select pg_advisory_lock(${MIGRATIONS_LOCK})`);
      const locked = drizzle(session, { schema });
      applied = await pendingMigrations(locked as unknown as Db);
      await migrate(locked, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await session.end().catch(() => undefined);
    }
  } else {
    try {
      await assertMigrated(db as unknown as Db);
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw error;
    }
  }
  const listeners = new Set<() => Promise<void>>();
  return {
    applied,
    db: db as unknown as Db, // NeonDatabase is a PgDatabase; see above.
    listen: async (channel, onPayload, onResubscribed) => {
      // LISTEN needs one dedicated session (on Neon: a direct, non-pooled connection).
      let client: InstanceType<typeof Client> | undefined;
      let closed = false;
      let retryMs = 100;
      const subscribe = async () => {
        const next = new Client({ connectionString: directUrl });
        next.on("error", () => undefined); // followed by "end", which reconnects
        next.on("notification", (msg) => {
          if (msg.channel === channel) onPayload(msg.payload ?? "");
        });
        next.on("end", () => {
          if (!closed) setTimeout(resubscribe, retryMs).unref();
        });
        await next.connect();
        await next.query(`LISTEN "${channel.replace(/"/g, "")}"`);
        client = next;
      };
      const resubscribe = async () => {
        if (closed) return;
        try {
          await subscribe();
          retryMs = 100;
          onResubscribed?.();
        } catch {
          retryMs = Math.min(retryMs * 2, 5_000);
          if (!closed) setTimeout(resubscribe, retryMs).unref();
        }
      };
      await subscribe();
      const unlisten = async () => {
        closed = true;
        listeners.delete(unlisten);
        await client?.end().catch(() => undefined);
      };
      listeners.add(unlisten);
      return unlisten;
    },
    close: async () => {
      await Promise.allSettled([...listeners].map((unlisten) => unlisten()));
      await pool.end();
    },
  };
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    if (!/^postgres(ql)?:\/\//.test(options.url)) throw new Error("DATABASE_URL must be a postgres:// URL");
    return openNeon(options.url, options.directUrl ?? options.url, options.wsProxy, options.migrations ?? "check");
  }
  return openPglite(options.dataDir);
}
