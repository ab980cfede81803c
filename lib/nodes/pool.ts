/**
 * The warm pool: a node whose last task was cleaned up stays warm for NODE_WARM_TIMEOUT (or is
 * destroyed at once when that is 0), and a freed slot wakes as many of the user's queued tasks as can be placed. The reaper
 * destroys only a node that is still warm and unclaimed, decided under the same per-user lock
 * that placement takes, so it never destroys a node a task just claimed. A machine someone
 * registered (not auto-provisioned) is theirs: it idles as warm for as long as they keep it, and
 * only its owner removes it.
 */
import { and, eq, inArray, isNotNull, isNull, lt, or, sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";
import { nodes, tasks } from "@/db/schema";
import { taskSlotAvailable, type SendEvents } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";
import { RUN_STATES } from "../tasks/state-machine";
import { publishNodeChange } from "../live/publish";
import { destroyNode, getNode } from "./lifecycle";
import type { Config } from "../config";
import type { NodeProvider } from "./provider";
import { freeSlots, lockUserPool, selectionLimits } from "./selection";
import { occupancySql } from "./statuses";

type QueueConfig = Pick<
  Config,
  "MAX_WORKSPACES_PER_NODE" | "MAX_NODES_PER_USER" | "NODE_CPU_THRESHOLD" | "NODE_MEMORY_THRESHOLD" | "LOCAL_NODE_LOAD_LIMITS" | "AUTH_MODE" | "QUEUE_WAKE_RETRY" | "WAKE_RESEND_AFTER"
>;

export type PoolDeps = { db: Executor; provider: NodeProvider; send: SendEvents; config: QueueConfig };

export async function nodeOccupancy(executor: Executor, nodeId: string): Promise<number> {
  const [row] = await queryRows<{ occupancy: number }>(executor, sql`select ${occupancySql(sql`${nodeId}`)} as occupancy`);
  return row?.occupancy ?? 0;
}

const inQueue = (userId: string) => and(eq(tasks.userId, userId), RUN_STATES.queued);

/**
 * Slots are free for the user (a task cleaned up, a node destroyed, or the supervisor found them):
 * wake as many queued tasks as placement would take now, first come first served. Each woken task
 * is marked (`queue_woken_at`) under the user's pool lock, so concurrent cleanups count each
 * other's wakes, and a task already woken is not woken again until it has looked (its selection
 * clears the mark) or QUEUE_WAKE_RETRY has passed (a wake the engine lost). Tasks woken before that
 * did not move come after the others, so one whose run is stuck does not take every wake.
 * Waking every queued task on every cleanup sent 2,100 wakes for 70 queued tasks, and the engine
 * lost some of the waits they resumed; waking a fixed few stranded the rest behind them.
 */
export async function wakeQueued(deps: { db: Executor; provider: Pick<NodeProvider, "name" | "sharedHost">; send: SendEvents; config: QueueConfig }, userId: string) {
  const retryBefore = sql`now() - ${`${deps.config.QUEUE_WAKE_RETRY} milliseconds`}::interval`;
  // Under the user's pool lock (placement's too): concurrent wakers count each other's wakes.
  const woken = await deps.db.transaction(async (tx) => {
    await lockUserPool(tx, userId);
    const free = await freeSlots(tx, userId, deps.config.AUTH_MODE, selectionLimits(deps.config, deps.provider));
    if (free <= 0) return [];
    const [{ inFlight } = { inFlight: 0 }] = await tx
      .select({ inFlight: sql<number>`count(*)::int` })
      .from(tasks)
      .where(and(inQueue(userId), sql`${tasks.queueWokenAt} >= ${retryBefore}`));
    if (free - inFlight <= 0) return [];
    const next = tx
      .select({ id: tasks.id })
      .from(tasks)
      .where(and(inQueue(userId), or(isNull(tasks.queueWokenAt), sql`${tasks.queueWokenAt} < ${retryBefore}`)))
      .orderBy(sql`${tasks.queueWokenAt} nulls first`, tasks.createdAt)
      .limit(free - inFlight);
    return tx.update(tasks).set({ queueWokenAt: sql`now()` }).where(inArray(tasks.id, next)).returning({ id: tasks.id });
  });
  await wakeRuns(deps, woken.map((t) => taskSlotAvailable.create({ taskId: t.id, userId })), "throw");
  return woken.map((t) => t.id);
}

/** The supervisor's pass: every user with queued tasks and free slots has them woken (a wake lost, a slot freed without a cleanup). */
export async function wakeQueues(deps: Parameters<typeof wakeQueued>[0]) {
  const users = await deps.db.selectDistinct({ userId: tasks.userId }).from(tasks).where(RUN_STATES.queued).limit(1000);
  const woken: string[] = [];
  for (const { userId } of users) woken.push(...(await wakeQueued(deps, userId)));
  return woken;
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
 * under the user's pool lock; returns whether it did. `reason` is kept on the node, for its page.
 */
export async function reapIfIdle(deps: PoolDeps, nodeId: string, warmForMs: number, reason?: string): Promise<boolean> {
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
  await destroyNode(deps, nodeId, reason);
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
