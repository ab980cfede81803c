/**
 * The whole system for one test file: its own database on the shared PostgreSQL, the app built
 * once by the global setup, its own Inngest server and data folder. The test gets a database
 * handle of its own (the same database the app uses) to look at state and mint tokens.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { openDatabase, type Database } from "@/db/client";
import { startSystem, TEST_DIST_DIR, type RunningSystem } from "@/scripts/system";
import { removeNodeUsers } from "@/vm-agent/users";
import { localNodes, stopLeftoverNodes } from "./leftover-nodes";
import { createDatabase } from "./postgres-database";
import { SHARED_MACHINE_ENV } from "./shared-machine";

/** What the nodes' vm-agents did, read from their logs: each count should be one per task. */
export type SideEffects = {
  /** Workspaces each node created, by workspace id. */
  workspaces: Map<string, number>;
  /** Agent launches (first turns and follow-ups), by session id. */
  launches: Map<string, number>;
  /** vm-agent daemons started, by node id (a restart of a dead daemon counts). */
  daemons: Map<string, number>;
};

export type TestSystem = RunningSystem & {
  /** Stops the app and the engine and starts them again on the same ports, database and data folder; nodes keep running. */
  restart(): Promise<void>;
  sideEffects(): SideEffects;
  database: Database;
  dataDir: string;
  /** The system's database (a real PostgreSQL server), for commands run beside it. */
  databaseEnv: { DATABASE_URL: string; DATABASE_WS_PROXY: string };
  /** JSON request against the app, as its own client (local mode: with its local token); `headers` go over that. */
  api(method: string, pathname: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests read arbitrary response shapes
};

export async function startTestSystem(
  env: Record<string, string> = {},
  options_: {
    superviseApp?: boolean;
    /** A PostgreSQL server of the test's own (one it restarts), instead of the shared one. */
    postgresPort?: number;
    /** The app's port, when the test must know it before the system starts (a balancer in front). */
    appPort?: number;
  } = {},
): Promise<TestSystem> {
  // On the run's server, a copy of its migrated template; on a server of the test's own, migrated at the start.
  const { url } = createDatabase({ port: options_.postgresPort });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-system-"));
  const options: Parameters<typeof startSystem>[0] = {
    mode: "start",
    superviseApp: options_.superviseApp,
    appPort: options_.appPort,
    distDir: TEST_DIST_DIR,
    dataDir,
    logDir: path.join(dataDir, "logs"),
    log: () => undefined,
    env: {
      DATABASE_URL: url,
      DATABASE_WS_PROXY: inject("wsProxy"),
      // The warm pool is on, as users run it (the product's default): a file's next task reuses the
      // last one's node. stop() ends the nodes still up, so no vm-agent outlives a test.
      // A task completes when its first turn ends; the follow-up tests turn the wait on.
      SESSION_IDLE_TIMEOUT: "0",
      CALLBACK_BASE_DELAY: "200ms",
      ...SHARED_MACHINE_ENV,
      ...env,
    },
  };
  let system = await startSystem(options);
  const database = await openDatabase({ url, dataDir, wsProxy: inject("wsProxy") });
  const nodesDir = path.join(dataDir, "nodes");
  const nodeIds = () => localNodes(dataDir).map((node) => node.nodeId);
  const ports = { appPort: Number(new URL(system.appUrl).port), inngestPort: Number(new URL(system.inngestUrl).port) };
  return {
    ...system,
    databaseEnv: { DATABASE_URL: url, DATABASE_WS_PROXY: inject("wsProxy") },
    pids: () => system.pids(),
    restarted: (which) => system.restarted(which),
    database,
    dataDir,
    async restart() {
      await system.stop();
      system = await startSystem({ ...options, ...ports });
    },
    sideEffects() {
      const effects: SideEffects = { workspaces: new Map(), launches: new Map(), daemons: new Map() };
      const bump = (map: Map<string, number>, key: unknown) => typeof key === "string" && map.set(key, (map.get(key) ?? 0) + 1);
      for (const nodeId of nodeIds()) {
        const dir = path.join(nodesDir, nodeId);
        for (const file of fs.readdirSync(dir).filter((f) => f.startsWith("vm-agent.log"))) {
          for (const line of fs.readFileSync(path.join(dir, file), "utf8").split("\n")) {
            let entry: { msg?: string; workspaceId?: unknown; sessionId?: unknown };
            try {
              entry = JSON.parse(line);
            } catch {
              continue;
            }
            if (entry.msg === "workspace accepted") bump(effects.workspaces, entry.workspaceId);
            if (entry.msg === "agent launched") bump(effects.launches, entry.sessionId);
            if (entry.msg === "vm-agent listening") bump(effects.daemons, nodeId);
          }
        }
      }
      return effects;
    },
    async api(method, pathname, body, headers = {}) {
      const response = await fetch(`${system.appUrl}${pathname}`, {
        method,
        headers: { ...system.authHeaders, ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers },
        body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
      });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON; the raw text is the body.
      }
      return { status: response.status, body: parsed as never };
    },
    async stop() {
      await system.stop();
      stopLeftoverNodes(dataDir);
      // The workspaces' users of this system's nodes (a stopped node keeps them until it is purged).
      for (const nodeId of nodeIds()) await removeNodeUsers(nodeId);
      await database.close();
      if (!process.env.KEEP_TEST_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
