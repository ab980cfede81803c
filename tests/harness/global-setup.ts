/**
 * Once per integration run: a real PostgreSQL server with a WebSocket relay in front (the app
 * reaches it through Neon's driver) and a migrated template database on it, a production build of
 * the app, and the Inngest binary.
 */
import type { TestProject } from "vitest/node";
import { ensureInngestBinary } from "@/scripts/inngest-bin.mjs";
import { buildApp } from "@/scripts/system";
import { removeOrphanUsers } from "@/vm-agent/users";
import { startPostgres } from "./postgres";
import { makeTemplate } from "./postgres-database";
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
  await makeTemplate(postgres.port, relay.proxy, template);
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
