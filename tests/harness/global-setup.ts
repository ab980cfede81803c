/**
 * Once per integration run: a real PostgreSQL server with a WebSocket relay in front (the app
 * reaches it through Neon's driver), a production build of the app, and the Inngest binary.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { ensureInngestBinary } from "@/scripts/inngest-bin.mjs";
import { startPostgres } from "./postgres";
import { startWsRelay } from "./ws-relay";

export const TEST_DIST_DIR = ".next-test";

declare module "vitest" {
  export interface ProvidedContext {
    postgresPort: number;
    wsProxy: string;
  }
}

export default async function setup(project: TestProject) {
  const root = path.resolve(import.meta.dirname, "../..");
  await ensureInngestBinary({ log: (line: string) => console.error(line) });
  if (!process.env.SKIP_NEXT_BUILD) {
    execFileSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
      cwd: root,
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, NEXT_DIST_DIR: TEST_DIST_DIR, NEXT_TELEMETRY_DISABLED: "1" },
    });
  }
  const postgres = await startPostgres();
  const relay = await startWsRelay();
  project.provide("postgresPort", postgres.port);
  project.provide("wsProxy", relay.proxy);
  return async () => {
    await relay.close();
    await postgres.stop();
  };
}
