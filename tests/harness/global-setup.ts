/**
 * Once per integration run: a real PostgreSQL server with a WebSocket relay in front (the app
 * reaches it through Neon's driver) and a migrated template database on it, a production build of
 * the app, and the Inngest binary.
 */
import { execFileSync } from "node:child_process";
import type { TestProject } from "vitest/node";
import { ensureInngestBinary } from "@/scripts/inngest-bin.mjs";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { migrateDatabase } from "@/scripts/migrate";
import { buildApp } from "@/scripts/system";
import { removeOrphanUsers } from "@/vm-agent/users";
import { startPostgres } from "./postgres";
import { sealTemplate } from "./postgres-database";
import { startWsRelay } from "./ws-relay";

declare module "vitest" {
  export interface ProvidedContext {
    postgresPort: number;
    wsProxy: string;
    /** The migrated database each test's database is copied from (postgres-database.ts). */
    postgresTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  await ensureInngestBinary({ log: (line: string) => console.error(line) });
  buildApp();
  const postgres = await startPostgres();
  const relay = await startWsRelay();
  const template = "acp_template";
  execFileSync("psql", ["-h", "127.0.0.1", "-p", String(postgres.port), "-U", "postgres", "-qc", `create database ${template}`]);
  const migrationDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-template-"));
  await migrateDatabase({ DATABASE_URL: postgres.url(template), DATABASE_WS_PROXY: relay.proxy, DATA_DIR: migrationDir }, () => undefined);
  fs.rmSync(migrationDir, { recursive: true, force: true });
  sealTemplate(postgres.port, template);
  project.provide("postgresPort", postgres.port);
  project.provide("wsProxy", relay.proxy);
  project.provide("postgresTemplate", template);
  return async () => {
    await relay.close();
    await postgres.stop();
    // Workspace users whose node folder went with a test's data folder.
    await removeOrphanUsers();
  };
}
