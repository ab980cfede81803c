/**
 * Chaos under load: bursts of tasks on an empty then a warm pool, and the disk and table footprint
 * many tasks leave once retention has swept. Shared settings and helpers: scenario.ts.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { gte, sql } from "drizzle-orm";
import { nodes } from "@/db/schema";
import { untilFinished } from "../harness/live-client";
import type { TestSystem } from "../harness/test-system";
import { record } from "./report";
import { each, gatedTask, MAX_PER_NODE, reportAfterAll, scenarios } from "./scenario";
import { verifyRun } from "./verify";

const BURST = Number(process.env.CHAOS_BURST ?? 12);

reportAfterAll("load");

// Under a burst on two cores a heartbeat may be late by seconds: the short staleness of the chaos
// settings (scenario.ts) is for the kill scenarios only (a stale node is never given a task, so it
// would force new nodes).
scenarios("bursts", { NODE_WARM_TIMEOUT: "10m", MAX_NODES_PER_USER: "10", HEARTBEAT_STALE_AFTER: "60s", NODE_LOST_AFTER: "60s" }, (system) => {
  each(`${BURST} tasks at once on an empty pool, then ${BURST} more on the warm pool`, async () => {
    for (const [label, expectedNew] of [["empty", Math.ceil(BURST / MAX_PER_NODE)], ["warm", 0]] as const) {
      const started = Date.now();
      const tasks = Array.from({ length: BURST }, () => gatedTask(system(), "none"));
      const ids = await Promise.all(tasks.map((t) => t.submit()));
      const finished = await Promise.all(ids.map((id) => untilFinished(system(), id, 300_000)));
      const result = await verifyRun(system(), ids, { maxPerNode: MAX_PER_NODE });
      const created = (await system().database.db.select({ id: nodes.id }).from(nodes).where(gte(nodes.createdAt, new Date(started)))).length;
      if (label === "empty" ? created > expectedNew : created !== 0) result.problems.push(`${created} nodes were created for ${BURST} tasks on the ${label} pool (the fewest needed: ${expectedNew})`);
      record(`${BURST} tasks at once, ${label} pool`, { ...result, recoverMs: Math.max(...finished.map((f) => f.endedAt)) - started });
      expect(result.problems).toEqual([]);
    }
    // Two bursts on two cores: measured 100 s and 69 s for 30 tasks each.
  }, 120_000 + BURST * 10_000);
});

const FOOTPRINT_TASKS = Number(process.env.CHAOS_FOOTPRINT_TASKS ?? 12);

scenarios(
  "footprint",
  { NODE_WARM_TIMEOUT: "10m", EVENT_RETENTION: "2s", OUTPUT_RETENTION: "2s", WORKSPACE_RETENTION: "2s", RETENTION_SWEEP_INTERVAL: "1s", HEARTBEAT_STALE_AFTER: "60s", NODE_LOST_AFTER: "60s" },
  (system) => {
    it(`${FOOTPRINT_TASKS} tasks leave a bounded disk and table footprint`, async () => {
      const started = Date.now();
      const ids: string[] = [];
      // Three at a time, as a busy user would: the warm pool's nodes are reused throughout.
      for (let i = 0; i < FOOTPRINT_TASKS; i += 3) {
        const batch = Array.from({ length: Math.min(3, FOOTPRINT_TASKS - i) }, () => gatedTask(system(), "none"));
        const batchIds = await Promise.all(batch.map((t) => t.submit()));
        await Promise.all(batchIds.map((id) => untilFinished(system(), id, 120_000)));
        ids.push(...batchIds);
      }
      const result = await verifyRun(system(), ids, { maxPerNode: MAX_PER_NODE });
      // Everything past its retention (2 s here) is swept within a few sweeps.
      const footprint = await untilSwept(system());
      record(`${FOOTPRINT_TASKS} tasks, footprint after the sweep`, { ...result, recoverMs: Date.now() - started });
      process.stdout.write(`\nFootprint after ${FOOTPRINT_TASKS} tasks: ${JSON.stringify(footprint)}\n`);
      expect(result.problems).toEqual([]);
      // Bounded: no worktree left of a completed task, a few MiB of node folders whatever the count,
      // and nothing in the prunable tables older than EVENT_RETENTION or OUTPUT_RETENTION (heartbeats keep adding live
      // events, so what remains is the last seconds' worth, not a share of every task).
      expect(footprint.worktrees).toBe(0);
      expect(footprint.nodeFolderBytes).toBeLessThan(64 * 1024 * 1024);
      expect(footprint.liveEvents + footprint.receipts + footprint.outputBatches).toBe(0);
      expect(footprint.recentLiveEvents).toBeLessThan(200);
    }, 900_000);
  },
);

async function untilSwept(system: TestSystem) {
  const db = system.database.db;
  /** Rows older than the retention (2 s) plus a sweep's interval. */
  const count = async (table: "live_events" | "callback_receipts" | "agent_output", old = true) =>
    Number(
      ((await db.execute(sql.raw(`select count(*)::int as n from ${table}${old ? " where created_at < now() - interval '4 seconds'" : ""}`))) as unknown as { rows: { n: number }[] })
        .rows[0]?.n ?? 0,
    );
  const deadline = Date.now() + 60_000;
  for (;;) {
    const nodesDir = path.join(system.dataDir, "nodes");
    const worktrees = fs.existsSync(nodesDir)
      ? fs.readdirSync(nodesDir).flatMap((n) => {
          const dir = path.join(nodesDir, n, "work", "workspaces");
          return fs.existsSync(dir) ? fs.readdirSync(dir).filter((w) => fs.existsSync(path.join(dir, w, "repo"))) : [];
        }).length
      : 0;
    const footprint = {
      worktrees,
      nodeFolderBytes: Number(spawnSync("du", ["-sb", nodesDir], { encoding: "utf8" }).stdout.split("\t")[0] ?? 0),
      liveEvents: await count("live_events"),
      receipts: await count("callback_receipts"),
      outputBatches: await count("agent_output"),
      recentLiveEvents: await count("live_events", false),
    };
    if ((footprint.worktrees === 0 && footprint.liveEvents + footprint.receipts + footprint.outputBatches === 0) || Date.now() > deadline) return footprint;
    await new Promise((r) => setTimeout(r, 500)); // the sweep runs on its own timer; nothing to await from here
  }
}