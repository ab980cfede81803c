/**
 * Databases on the integration run's PostgreSQL server. The global setup migrates one template
 * database once; each test's database is a copy of it (PostgreSQL copies its files), so a system
 * start finds nothing to apply instead of running every migration over the relay (~2 s each).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { openDatabase, type Database } from "@/db/client";
import { migrateDatabase } from "@/scripts/migrate";

const psql = (port: number, command: string) => execFileSync("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-qc", command]);
const databaseUrl = (port: number, name: string) => `postgres://postgres@127.0.0.1:${port}/${name}`;

/**
 * A new database named after this process. On the run's shared server it starts as a copy of the
 * migrated template; on a server of a test's own (`port` given), or `empty`, it starts empty.
 */
export function createDatabase(options: { port?: number; empty?: boolean; prefix?: string } = {}): { name: string; url: string } {
  const port = options.port ?? inject("postgresPort");
  const name = `${options.prefix ?? "acp"}_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const template = options.port === undefined && !options.empty ? inject("postgresTemplate") : undefined;
  psql(port, `create database ${name}${template ? ` template ${template}` : ""}`);
  return { name, url: databaseUrl(port, name) };
}

/**
 * Makes the run's migrated template, `name`, on the server at `port`. PostgreSQL copies a template
 * only while no session is connected to it: its sessions are ended, and no more allowed.
 */
export async function makeTemplate(port: number, wsProxy: string, name: string) {
  psql(port, `create database ${name}`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-template-"));
  await migrateDatabase({ DATABASE_URL: databaseUrl(port, name), DATABASE_WS_PROXY: wsProxy, DATA_DIR: dataDir }, () => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
  psql(port, `select pg_terminate_backend(pid) from pg_stat_activity where datname = '${name}' and pid <> pg_backend_pid()`);
  psql(port, `alter database ${name} with is_template true allow_connections false`);
}

/** A fresh database on the run's server, opened through Neon's driver as the app opens it. */
export async function openPostgresDatabase(): Promise<Database & { url: string }> {
  const { url } = createDatabase();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-pg-db-"));
  // Applies what the template lacks (nothing), as the deploy step does before the app starts.
  const database = await openDatabase({ url, dataDir, wsProxy: inject("wsProxy"), migrations: "apply" });
  return { ...database, url };
}
