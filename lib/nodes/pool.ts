/**
 * The warm pool: a node whose last task was cleaned up stays warm for NODE_WARM_TIMEOUT (or is
 * destroyed at once when that is 0), and a freed slot wakes the user's queued tasks. The reaper
 * destroys only a node that is still warm and unclaimed, decided under the same per-user lock
 * that placement takes, so it never destroys a node a task just claimed. A machine someone
 * registered (not auto-provisioned) is theirs: it idles as warm for as long as they keep it, and
 * only its owner removes it.
 */
import { and, eq, isNotNull, isNull, lt, sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { nodes, tasks } from "@/db/schema";
import { taskWake, type SendEvents } from "../contracts/events";
import { publishNodeChange } from "../live/publish";
import { destroyNode, getNode } from "./lifecycle";
import type { Config } from "../config";
import type { NodeProvider } from "./provider";
import { lockUserPool } from "./selection";
import { occupancySql } from "./statuses";

export type PoolDeps = { db: Executor; provider: NodeProvider; send: SendEvents; config: Pick<Config, "MAX_WORKSPACES_PER_NODE"> };

export async function nodeOccupancy(executor: Executor, nodeId: string): Promise<number> {
  const [row] = await queryRows<{ occupancy: number }>(executor, sql`select ${occupancySql(sql`${nodeId}`)} as occupancy`);
  return row?.occupancy ?? 0;
}

/** The user's oldest `limit` tasks waiting in the queue for a slot (placed on no node yet). */
async function queuedTasks(executor: Executor, userId: string, limit: number) {
  return executor
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.userId, userId), eq(tasks.status, "queued"), isNull(tasks.nodeId), eq(tasks.executionStep, "node_selection")))
    .orderBy(tasks.createdAt)
    .limit(limit);
}

/**
 * A slot freed (a task cleaned up, a node destroyed): wake the user's oldest queued tasks, as many
 * as one node holds, to try again, first come first served. Not all of them: with many queued, a
 * burst of cleanups would send each queued task one wake per cleanup, thousands at once (measured:
 * 2,100 for 70 queued tasks and 30 cleanups), and the engine wedged some of the waits they
 * resumed. Those not woken find a slot at their wait's next re-check, or at a later wake.
 */
export async function wakeQueued(deps: { db: Executor; send: SendEvents; config: Pick<Config, "MAX_WORKSPACES_PER_NODE"> }, userId: string) {
  const waiting = await queuedTasks(deps.db, userId, deps.config.MAX_WORKSPACES_PER_NODE);
  if (waiting.length) await deps.send(waiting.map((t) => taskWake.create({ taskId: t.id, reason: "capacity" })));
}

/**
 * The node's task is done with it: with no slot taken it becomes warm, or is destroyed when the
 * warm pool is off. Returns what happened, for the task's timeline.
 */
export async function settleNode(deps: PoolDeps, nodeId: string, warmTimeoutMs: number): Promise<"in_use" | "warm" | "destroyed" | "gone"> {
  const node = await getNode(deps.db, nodeId);
  if (!node || node.status !== "running") return "gone";
  if ((await nodeOccupancy(deps.db, nodeId)) > 0) {
    await publishNodeChange(deps.db); // a slot freed: the nodes page shows "1 of 3" now
    return "in_use";
  }
  if (warmTimeoutMs > 0 || !node.autoProvisioned) {
    await deps.db
      .update(nodes)
      .set({ warmSince: sql`coalesce(${nodes.warmSince}, now())`, updatedAt: sql`now()` })
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "running")));
    await publishNodeChange(deps.db);
    return "warm";
  }
  return (await reapIfIdle(deps, nodeId, 0)) ? "destroyed" : "in_use";
}

/**
 * Destroys the node when it is running, warm for at least `warmForMs` and holds no slot, decided
 * under the user's pool lock; returns whether it did.
 */
export async function reapIfIdle(deps: PoolDeps, nodeId: string, warmForMs: number): Promise<boolean> {
  const node = await getNode(deps.db, nodeId);
  if (!node) return false;
  const claimed = await deps.db.transaction(async (tx) => {
    await lockUserPool(tx, node.userId);
    const warmEnough = warmForMs > 0 ? and(isNotNull(nodes.warmSince), lt(nodes.warmSince, new Date(Date.now() - warmForMs))) : sql`true`;
    const rows = await tx
      .update(nodes)
      .set({ status: "stopping", updatedAt: sql`now()` })
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "running"), warmEnough, sql`${occupancySql(sql.raw("nodes.id"))} = 0`))
      .returning({ id: nodes.id });
    return rows.length > 0;
  });
  if (!claimed) return false;
  await destroyNode(deps, nodeId);
  await wakeQueued(deps, node.userId);
  return true;
}

/** Warm nodes unused for longer than the warm timeout. */
export async function expiredWarmNodes(db: Executor, warmTimeoutMs: number) {
  return db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.status, "running"), eq(nodes.autoProvisioned, true), isNotNull(nodes.warmSince), lt(nodes.warmSince, new Date(Date.now() - warmTimeoutMs))));
}
