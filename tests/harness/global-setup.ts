/**
 * Once per integration run: a real PostgreSQL server with a WebSocket relay in front (the app
 * reaches it through Neon's driver), a production build of the app, and the Inngest binary.
 */
import type { TestProject } from "vitest/node";
import { ensureInngestBinary } from "@/scripts/inngest-bin.mjs";
import { buildApp } from "@/scripts/system";
import { removeOrphanUsers } from "@/vm-agent/users";
import { startPostgres } from "./postgres";
import { startWsRelay } from "./ws-relay";

declare module "vitest" {
  export interface ProvidedContext {
    postgresPort: number;
    wsProxy: string;
  }
}

export default async function setup(project: TestProject) {
  await ensureInngestBinary({ log: (line: string) => console.error(line) });
  buildApp();
  const postgres = await startPostgres();
  const relay = await startWsRelay();
  project.provide("postgresPort", postgres.port);
  project.provide("wsProxy", relay.proxy);
  return async () => {
    await relay.close();
    await postgres.stop();
    // Workspace users whose node folder went with a test's data folder.
    await removeOrphanUsers();
  };
}
