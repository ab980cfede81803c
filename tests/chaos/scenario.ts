/**
 * What the chaos files share: real processes killed with SIGKILL (the app, the engine, a vm-agent, a
 * whole node, PostgreSQL) at each waiting stage of a task, then restarted as the product does; each
 * scenario CHAOS_RUNS times (1 in `npm test`, more in `npm run chaos`). Every run must end with its
 * tasks completed, each side effect done once, nothing left running and no node over capacity.
 * Each file's rows go into one table (report.ts): scenario, runs, completed, duplicated side effects,
 * time to recover. The files start their systems on databases of their own, and a file that
 * restarts PostgreSQL does it on a server of its own, so they run beside each other and beside the
 * integration files.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskDetail } from "@/lib/contracts/api";
import { readLocalNodeRecord } from "@/lib/nodes/providers/local";
import { makeRepo } from "../harness/git";
import { GATED_AGENT_COMMAND, newGate } from "../harness/gated-agent";
import { untilFinished, watchTask } from "../harness/live-client";
import { startPostgres, type PostgresServer } from "../harness/postgres";
import { startTestSystem, type TestSystem } from "../harness/test-system";
import { printTable, record } from "./report";
import { verifyRun } from "./verify";

const RUNS = Number(process.env.CHAOS_RUNS ?? 1);
export const MAX_PER_NODE = 3;

const ENV = {
  SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND,
  RECONCILE_INTERVAL: "2s",
  HEARTBEAT_INTERVAL: "1s",
  HEARTBEAT_STALE_AFTER: "3s",
  NODE_LOST_AFTER: "3s",
  NODE_MONITOR_INTERVAL: "500ms",
  MAX_WORKSPACES_PER_NODE: String(MAX_PER_NODE),
  // Runs reuse warm nodes and kill their daemons again and again: the restart budget is for real crash loops.
  NODE_RESTART_LIMIT: "100",
  // Each scenario kills the app or the engine once, a few dozen seconds after the last: separate
  // crashes, not the crash loop the runner's backoff is for (it would add up to 30 s to each).
  RESTART_STABLE_AFTER: "5s",
};

export type Stage = "node_agent_ready" | "workspace_ready" | "running" | "agent_session";

/** A task whose setup (workspace_ready) or agent (running) waits for a gate the scenario opens. */
export function gatedTask(system: TestSystem, hold: "setup" | "agent" | "none") {
  const setup = newGate("setup", hold !== "setup");
  const agent = newGate("Chaos task", hold !== "agent");
  const setupFile = setup.prompt.split(" ")[0]!;
  const repo = makeRepo({ ".agent/setup.sh": `while [ ! -e '${setupFile}' ]; do sleep 0.05; done\n` });
  return {
    async submit() {
      const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: agent.prompt });
      expect(status, JSON.stringify(body)).toBe(202);
      return body.taskId as string;
    },
    open() {
      setup.open();
      agent.open();
    },
  };
}

export async function untilStage(system: TestSystem, taskId: string, stage: Stage): Promise<TaskDetail> {
  const watch = await watchTask(system, taskId);
  try {
    return await watch.until(
      (t) => t.executionStep === stage && (stage !== "running" || t.output.lines.some((l) => l.includes("agent waiting"))),
      90_000,
      `step ${stage}`,
    );
  } finally {
    watch.close();
  }
}

/** Kills `victim` at `stage`, lets the product recover, and checks the run. */
export async function chaosRun(
  system: TestSystem,
  scenario: string,
  options: { stage: Stage; hold: "setup" | "agent" | "none"; kill: (task: TaskDetail) => Promise<void> },
) {
  const task = gatedTask(system, options.hold);
  const taskId = await task.submit();
  const at = await untilStage(system, taskId, options.stage);
  const killedAt = Date.now();
  await options.kill(at);
  task.open();
  const { endedAt } = await untilFinished(system, taskId, 120_000);
  const result = await verifyRun(system, [taskId], { maxPerNode: MAX_PER_NODE });
  record(scenario, { ...result, recoverMs: endedAt - killedAt });
  expect(result.problems).toEqual([]);
}

export const daemonOf = (system: TestSystem, nodeId: string) => readLocalNodeRecord(path.join(system.dataDir, "nodes", nodeId))!;

export async function killApp(system: TestSystem) {
  const restarted = system.restarted("app");
  process.kill(-system.pids().app!, "SIGKILL");
  await restarted;
}

export async function killEngine(system: TestSystem) {
  const restarted = system.restarted("engine");
  process.kill(system.pids().engine!, "SIGKILL");
  await restarted;
}

/**
 * A describe block with a system of its own, started with the chaos settings and `env`. With
 * `ownPostgres`, the system's database lives on a PostgreSQL server of the block's own, which its
 * scenarios may restart without touching the databases of the files running beside them.
 */
export function scenarios(
  label: string,
  env: Record<string, string>,
  define: (system: () => TestSystem, postgres: () => PostgresServer) => void,
  options: { ownPostgres?: boolean } = {},
) {
  describe(label, () => {
    let system: TestSystem;
    let postgres: PostgresServer | undefined;
    beforeAll(async () => {
      if (options.ownPostgres) postgres = await startPostgres();
      system = await startTestSystem({ ...ENV, ...env }, { superviseApp: true, postgresPort: postgres?.port });
    });
    afterAll(async () => {
      await system?.stop();
      await postgres?.stop();
    });
    define(
      () => system,
      () => {
        if (!postgres) throw new Error(`"${label}" has no PostgreSQL server of its own: pass ownPostgres`);
        return postgres;
      },
    );
  });
}

/** Prints this file's rows of the chaos table when its scenarios are done (report.ts merges the files' rows). */
export const reportAfterAll = (file: string) => afterAll(() => printTable(file));

export const each = (name: string, body: () => Promise<void>, perRunMs = 180_000) =>
  it(name, async () => {
    for (let run = 0; run < RUNS; run++) await body();
  }, RUNS * perRunMs);
