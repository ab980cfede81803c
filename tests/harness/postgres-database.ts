/** A fresh database on the integration run's PostgreSQL server, opened through Neon's driver as the app opens it. */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { openDatabase, type Database } from "@/db/client";

export async function openPostgresDatabase(): Promise<Database & { url: string }> {
  const port = inject("postgresPort");
  const name = `acp_${process.pid}_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  execFileSync("psql", ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-qc", `create database ${name}`]);
  const url = `postgres://postgres@127.0.0.1:${port}/${name}`;
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-pg-db-"));
  // A fresh database: migrated here, as the deploy step does before the app starts.
  const database = await openDatabase({ url, dataDir, wsProxy: inject("wsProxy"), migrations: "apply" });
  return { ...database, url };
}
