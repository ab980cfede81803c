/**
 * Node selection: the one owner of "which node runs this task". A warm node is claimed atomically
 * (one task wins a race for it); otherwise the least-loaded running node with room is chosen.
 */
import { sql } from "drizzle-orm";
import { queryRows, type Executor } from "@/db/client";

export type SelectionLimits = {
  maxWorkspacesPerNode: number;
  cpuThreshold: number;
  memoryThreshold: number;
};

/** Workspace statuses that occupy a slot on their node. */
export const ACTIVE_WORKSPACE_STATUSES = ["pending", "creating", "running", "recovery"] as const;
const active = sql.raw(ACTIVE_WORKSPACE_STATUSES.map((s) => `'${s}'`).join(","));

export async function claimWarmNode(executor: Executor, userId: string): Promise<string | undefined> {
  const rows = await queryRows<{ id: string }>(executor, sql`
    update nodes set warm_since = null, updated_at = now()
    where id = (
      select id from nodes
      where user_id = ${userId} and status = 'running' and warm_since is not null and health <> 'unhealthy'
      order by warm_since
      limit 1
      for update skip locked
    )
    returning id`);
  return rows[0]?.id;
}

export async function leastLoadedNode(executor: Executor, userId: string, limits: SelectionLimits) {
  const rows = await queryRows<{ id: string }>(executor, sql`
    select n.id from nodes n
    where n.user_id = ${userId} and n.status = 'running' and n.health <> 'unhealthy'
      and coalesce(n.cpu_percent, 0) < ${limits.cpuThreshold}
      and coalesce(n.memory_percent, 0) < ${limits.memoryThreshold}
      and (select count(*) from workspaces w where w.node_id = n.id and w.status in (${active})) < ${limits.maxWorkspacesPerNode}
    order by 0.4 * coalesce(n.cpu_percent, 0) + 0.6 * coalesce(n.memory_percent, 0), n.created_at
    limit 1`);
  return rows[0]?.id;
}

/** Returns the chosen node's id, or undefined when a new node must be provisioned. */
export async function selectNode(executor: Executor, userId: string, limits: SelectionLimits) {
  return (await claimWarmNode(executor, userId)) ?? (await leastLoadedNode(executor, userId, limits));
}
