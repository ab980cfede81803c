/**
 * Node selection: the one owner of "which node runs this task". Placement reserves the task's
 * slot in the same transaction that picks the node, under a per-user lock, so a burst of tasks
 * never puts more than MAX_WORKSPACES_PER_NODE on a node, the node quota check is atomic, and a
 * repeated selection (a retried step, a re-driven run) finds the slot it already holds.
 *
 * Order: a running machine of the person's own with room (registered with the install command:
 * it costs nothing more), an idle running node (the warm pool), the least-loaded running node with
 * room, a free slot on a node that is still being created, a new node while the quota allows; else
 * the task waits in the queue until a slot frees. A machine is placed on only once it runs (one
 * still installing may never finish), and is never created here. MAX_NODES_PER_USER counts only
 * the nodes the control plane creates: machines are the person's own and cost it nothing. In team
 * mode only nodes that run each workspace as its own user count (isolation.ts).
 */
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { inList, queryRows, type Executor } from "@/db/client";
import { nodes, tasks } from "@/db/schema";
import type { Config } from "../config";
import { publishNodeChange } from "../live/publish";
import { isolationVerdict, placeableIsolationSql } from "./isolation";
import { LIVE_NODE_STATUSES, PLACEABLE_NODE_HEALTH, WANTED_NODE_STATUSES } from "../contracts/statuses";
import { occupancySql } from "./statuses";

export type SelectionLimits = {
  maxWorkspacesPerNode: number;
  cpuThreshold: number;
  memoryThreshold: number;
  maxNodesPerUser: number;
  /**
   * Providers whose nodes all share one host (the local provider) and are not held to the thresholds
   * (LOCAL_NODE_LOAD_LIMITS off): that host's load does not steer placement among them.
   */
  loadExemptProviders?: readonly string[];
  /**
   * A provider whose nodes all share one host and are held to the thresholds: while any running node
   * of it is over one, the host is, so no new node of it is created either (it would add no room).
   */
  sharedHostProvider?: string;
};

export type Placement =
  | { kind: "assigned"; nodeId: string; status: string; created: boolean; wasIdle: boolean }
  | { kind: "queued"; reason: string };

/** Serialises one user's placements and reaps (a transaction-scoped advisory lock). */
export async function lockUserPool(executor: Executor, userId: string) {
  await executor.execute(sql`select pg_advisory_xact_lock(hashtext(${`node-pool:${userId}`}))`);
}

export const newNodeId = () => `n_${randomBytes(6).toString("hex")}`;

type Candidate = { id: string; status: string; occupancy: number };

/** The user's nodes that can take one more task now: placeable, healthy, isolated as the mode needs, with a free slot and (unless exempt) under the load thresholds. */
function placeableNodes(userId: string, authMode: Config["AUTH_MODE"], limits: SelectionLimits) {
  const exempt = limits.loadExemptProviders?.length ? sql`n.provider in (${inList(limits.loadExemptProviders)}) or` : sql``;
  return sql`n.user_id = ${userId} and n.status in (${inList(WANTED_NODE_STATUSES)})
      and n.health in (${inList(PLACEABLE_NODE_HEALTH)})
      and (n.auto_provisioned or n.status = 'running')
      and ${placeableIsolationSql(authMode, "n")}
      and ${occupancySql(sql.raw("n.id"))} < ${limits.maxWorkspacesPerNode}
      and (n.status <> 'running' or ${exempt} (${under("n.cpu_percent", limits.cpuThreshold)}
                                     and ${under("n.memory_percent", limits.memoryThreshold)}))`;
}

/** A reading under its threshold; a threshold of 100 % is no limit (a reading never exceeds it, but a saturated host reads exactly 100). */
function under(column: string, threshold: number) {
  return threshold >= 100 ? sql`true` : sql`coalesce(${sql.raw(column)}, 0) < ${threshold}`;
}

/** The shared host is over a threshold: one of its running, reporting nodes (anyone's) says so. */
async function sharedHostOverloaded(executor: Executor, limits: SelectionLimits): Promise<boolean> {
  if (!limits.sharedHostProvider) return false;
  const [row] = await queryRows<{ over: boolean }>(executor, sql`
    select exists (select 1 from nodes h where h.provider = ${limits.sharedHostProvider} and h.status = 'running'
      and h.health in (${inList(PLACEABLE_NODE_HEALTH)})
      and not (${under("h.cpu_percent", limits.cpuThreshold)} and ${under("h.memory_percent", limits.memoryThreshold)})) as over`);
  return row?.over ?? false;
}

async function candidates(executor: Executor, userId: string, authMode: Config["AUTH_MODE"], limits: SelectionLimits, exclude: readonly string[]) {
  const excluded = exclude.length ? sql`and n.id not in (${inList(exclude)})` : sql``;
  return queryRows<Candidate>(executor, sql`
    select n.id, n.status, ${occupancySql(sql.raw("n.id"))} as occupancy from nodes n
    where ${placeableNodes(userId, authMode, limits)} ${excluded}
    order by
      case when n.status = 'running' and not n.auto_provisioned then 0
           when n.status = 'running' and ${occupancySql(sql.raw("n.id"))} = 0 then 1
           when n.status = 'running' then 2 else 3 end,
      0.4 * coalesce(n.cpu_percent, 0) + 0.6 * coalesce(n.memory_percent, 0),
      n.created_at
    limit 1`);
}

/** How many of the user's auto-provisioned nodes count toward MAX_NODES_PER_USER. */
async function liveNodeCount(executor: Executor, userId: string) {
  const [{ live } = { live: 0 }] = await queryRows<{ live: number }>(
    executor,
    sql`select count(*)::int as live from nodes where user_id = ${userId} and auto_provisioned and status in (${inList(LIVE_NODE_STATUSES)})`,
  );
  return live;
}

/**
 * How many tasks placement would take for the user right now: the free slots of the nodes it
 * would pick, and those of the nodes it may still create. The queue is woken for that many.
 */
export async function freeSlots(executor: Executor, userId: string, authMode: Config["AUTH_MODE"], limits: SelectionLimits): Promise<number> {
  const [{ free } = { free: 0 }] = await queryRows<{ free: number }>(
    executor,
    sql`select coalesce(sum(${limits.maxWorkspacesPerNode} - ${occupancySql(sql.raw("n.id"))}), 0)::int as free from nodes n where ${placeableNodes(userId, authMode, limits)}`,
  );
  const creatable = (await sharedHostOverloaded(executor, limits)) ? 0 : Math.max(0, limits.maxNodesPerUser - (await liveNodeCount(executor, userId)));
  return free + creatable * limits.maxWorkspacesPerNode;
}

/** The limits placement holds a task to, from the configuration and the provider. */
export function selectionLimits(
  config: Pick<Config, "MAX_WORKSPACES_PER_NODE" | "MAX_NODES_PER_USER" | "NODE_CPU_THRESHOLD" | "NODE_MEMORY_THRESHOLD" | "LOCAL_NODE_LOAD_LIMITS">,
  provider: { name: string; sharedHost?: boolean },
): SelectionLimits {
  return {
    maxWorkspacesPerNode: config.MAX_WORKSPACES_PER_NODE,
    maxNodesPerUser: config.MAX_NODES_PER_USER,
    cpuThreshold: config.NODE_CPU_THRESHOLD,
    memoryThreshold: config.NODE_MEMORY_THRESHOLD,
    // Local nodes share this machine: a busy machine is busy for every node, and a new one adds no
    // room (LOCAL_NODE_LOAD_LIMITS says whether its load steers them at all). A machine someone
    // registered is its own host, held to the thresholds like a cloud node.
    loadExemptProviders: provider.sharedHost && !config.LOCAL_NODE_LOAD_LIMITS ? [provider.name] : [],
    ...(provider.sharedHost && config.LOCAL_NODE_LOAD_LIMITS ? { sharedHostProvider: provider.name } : {}),
  };
}

/**
 * Places the task: returns the node it holds a slot on (creating the node row when a new node is
 * needed and allowed), or why it must wait. `exclude` skips nodes that just failed a probe.
 */
export async function placeTask(
  executor: Executor,
  input: { taskId: string; userId: string; provider: string; authMode: Config["AUTH_MODE"]; limits: SelectionLimits; exclude?: readonly string[] },
): Promise<Placement> {
  return executor.transaction(async (tx) => {
    await lockUserPool(tx, input.userId);
    const [task] = await tx.select({ nodeId: tasks.nodeId }).from(tasks).where(eq(tasks.id, input.taskId)).for("update");
    if (!task) return { kind: "queued", reason: "the task no longer exists" };
    if (task.nodeId && !input.exclude?.includes(task.nodeId)) {
      const [held] = await tx
        .select({ id: nodes.id, status: nodes.status, health: nodes.health, isolation: nodes.isolation, isolationReason: nodes.isolationReason })
        .from(nodes)
        .where(eq(nodes.id, task.nodeId));
      // A node refused for its isolation is not kept (one that has not said yet is: the wait for it decides).
      const refused = held && isolationVerdict(input.authMode, held).kind === "refused";
      if (held && !refused && WANTED_NODE_STATUSES.includes(held.status) && held.health !== "unhealthy") {
        return { kind: "assigned", nodeId: held.id, status: held.status, created: false, wasIdle: false };
      }
      if (held && refused) await leaveNode(tx, input.taskId, held.id);
    }
    const [pick] = await candidates(tx, input.userId, input.authMode, input.limits, input.exclude ?? []);
    if (pick) {
      await tx.update(tasks).set({ nodeId: pick.id, updatedAt: sql`now()` }).where(eq(tasks.id, input.taskId));
      await tx.update(nodes).set({ warmSince: null, updatedAt: sql`now()` }).where(eq(nodes.id, pick.id));
      await publishNodeChange(tx);
      return { kind: "assigned", nodeId: pick.id, status: pick.status, created: false, wasIdle: pick.status === "running" && pick.occupancy === 0 };
    }
    if (await sharedHostOverloaded(tx, input.limits)) {
      await tx.update(tasks).set({ queueWokenAt: null }).where(eq(tasks.id, input.taskId));
      return {
        kind: "queued",
        reason: `this machine is over its load thresholds (NODE_CPU_THRESHOLD=${input.limits.cpuThreshold}%, NODE_MEMORY_THRESHOLD=${input.limits.memoryThreshold}%); waiting until its load drops`,
      };
    }
    const live = await liveNodeCount(tx, input.userId);
    if (live >= input.limits.maxNodesPerUser) {
      // It has looked: a wake that brought it here is used up (lib/nodes/pool.ts wakes it again for the next free slot).
      await tx.update(tasks).set({ queueWokenAt: null }).where(eq(tasks.id, input.taskId));
      return {
        kind: "queued",
        reason: `every node is busy (${live} of MAX_NODES_PER_USER=${input.limits.maxNodesPerUser}, ${input.limits.maxWorkspacesPerNode} tasks each); waiting for a free slot`,
      };
    }
    const nodeId = newNodeId();
    await tx.insert(nodes).values({ id: nodeId, userId: input.userId, provider: input.provider, status: "creating" });
    await tx.update(tasks).set({ nodeId, updatedAt: sql`now()` }).where(eq(tasks.id, input.taskId));
    await publishNodeChange(tx);
    return { kind: "assigned", nodeId, status: "creating", created: true, wasIdle: false };
  });
}

/** Gives up the task's slot on `nodeId` (a probe failed, or the node was lost before the agent started). */
export async function leaveNode(executor: Executor, taskId: string, nodeId: string) {
  await executor.execute(sql`update tasks set node_id = null, updated_at = now() where id = ${taskId} and node_id = ${nodeId}`);
}
