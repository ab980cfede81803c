/**
 * Node and workspace status sets, in one home beside their lifecycles. Node: pending, creating,
 * running, stopping, stopped, error; health: unknown, healthy, stale, unhealthy, restarting.
 */
import { sql } from "drizzle-orm";

export const NODE_STATUSES = ["pending", "creating", "running", "stopping", "stopped", "error"] as const;
export type NodeStatus = (typeof NODE_STATUSES)[number];

/** Nodes that count against a user's MAX_NODES_PER_USER (a lost node counts until its machine is destroyed). */
export const LIVE_NODE_STATUSES: readonly NodeStatus[] = ["pending", "creating", "running", "stopping", "error"];
/** Nodes a task may be placed on (a creating node's free slot is taken rather than creating another). */
export const PLACEABLE_NODE_STATUSES: readonly NodeStatus[] = ["pending", "creating", "running"];
/** Nodes that are gone or going: a task on one must go on elsewhere or fail. */
export const GONE_NODE_STATUSES: readonly NodeStatus[] = ["stopping", "stopped", "error"];

export const NODE_HEALTH = ["unknown", "healthy", "stale", "unhealthy", "restarting"] as const;
export type NodeHealth = (typeof NODE_HEALTH)[number];

/** Workspace statuses that hold work on their node. */
export const ACTIVE_WORKSPACE_STATUSES = ["pending", "creating", "running", "recovery"] as const;

export const inList = (values: readonly string[]) => sql.raw(values.map((v) => `'${v.replace(/'/g, "''")}'`).join(","));

/**
 * How many slots of a node are taken: tasks placed on it whose cleanup is not done, and workspaces
 * held for a person's decision (work whose push was refused). A task holds its slot from selection
 * (so a burst never overfills a node) until its workspace is cleaned up; a held workspace until it
 * is pushed or discarded, so its node is never destroyed under it.
 */
export const occupancySql = (nodeIdColumn: ReturnType<typeof sql.raw>) =>
  sql`((select count(*)::int from tasks t where t.node_id = ${nodeIdColumn} and t.cleaned_up_at is null) + (select count(*)::int from workspaces w where w.node_id = ${nodeIdColumn} and w.held_at is not null and w.purged_at is null))`;
