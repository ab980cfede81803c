/**
 * The node lifecycle on the control plane side: provision, ready, release to the warm pool,
 * destroy. Statuses: pending, creating, running, stopping, stopped, error.
 */
import { and, eq, inArray, isNotNull, lt, notInArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodes, tasks, workspaces } from "@/db/schema";
import { signNodeCallbackToken } from "../auth/tokens";
import type { KeyPair } from "../auth/keys";
import type { NodeReadyCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import type { NodeProvider } from "./provider";
import { ACTIVE_WORKSPACE_STATUSES } from "./selection";

export class NodeQuotaError extends Error {}

type ProvisionDeps = { db: Executor; provider: NodeProvider; keys: KeyPair; controlPlaneUrl: string; callbackTtlMs: number };

/** Nodes that count against a user's quota. */
const LIVE_NODE_STATUSES = ["pending", "creating", "running", "stopping"];

/**
 * Creates the node `nodeId` for a user. Idempotent: a re-run of the step finds the row and the
 * provider's server and does not create a second machine.
 */
export async function provisionNode(deps: ProvisionDeps, input: { nodeId: string; userId: string; maxNodesPerUser: number }) {
  const [existing] = await deps.db.select().from(nodes).where(eq(nodes.id, input.nodeId));
  if (existing?.providerServerId) return existing;
  if (!existing) {
    const [{ count } = { count: 0 }] = await deps.db
      .select({ count: sql<number>`count(*)::int` })
      .from(nodes)
      .where(and(eq(nodes.userId, input.userId), inArray(nodes.status, LIVE_NODE_STATUSES)));
    if (count >= input.maxNodesPerUser) {
      throw new NodeQuotaError(`node quota reached: ${count} of ${input.maxNodesPerUser} nodes are in use (MAX_NODES_PER_USER)`);
    }
    await deps.db
      .insert(nodes)
      .values({ id: input.nodeId, userId: input.userId, provider: deps.provider.name, status: "creating" })
      .onConflictDoNothing();
  }
  const nodeCallbackToken = await signNodeCallbackToken(deps.keys, { nodeId: input.nodeId }, deps.callbackTtlMs);
  const created = await deps.provider.create({
    nodeId: input.nodeId,
    controlPlaneUrl: deps.controlPlaneUrl,
    nodeCallbackToken,
    publicJwk: deps.keys.publicJwk,
  });
  const [row] = await deps.db
    .update(nodes)
    .set({ providerServerId: created.providerServerId, endpoint: created.endpoint ?? null, updatedAt: sql`now()` })
    .where(eq(nodes.id, input.nodeId))
    .returning();
  return row!;
}

/** Tasks whose page shows this node. */
async function publishForNode(executor: Executor, nodeId: string) {
  const affected = await executor
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.nodeId, nodeId), notInArray(tasks.status, ["completed", "failed", "cancelled"])));
  for (const task of affected) await publishTaskChange(executor, task.id, "node");
}

/** The vm-agent's boot callback. Returns false when the node is unknown or no longer wanted. */
export async function markNodeReady(db: Executor, nodeId: string, body: NodeReadyCallback) {
  return db.transaction(async (tx) => {
    const updated = await tx
      .update(nodes)
      .set({ status: "running", health: "healthy", endpoint: body.endpoint, lastHeartbeatAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(nodes.id, nodeId), inArray(nodes.status, ["pending", "creating", "running"])))
      .returning({ id: nodes.id });
    if (updated.length) await publishForNode(tx, nodeId);
    return updated.length > 0;
  });
}

export async function getNode(db: Executor, nodeId: string) {
  const [row] = await db.select().from(nodes).where(eq(nodes.id, nodeId));
  return row;
}

/**
 * A task is done with its node: keep it warm for the next task, or destroy it at once when the
 * warm pool is disabled (NODE_WARM_TIMEOUT=0). Nothing happens while other workspaces use it.
 */
export async function releaseNode(deps: { db: Executor; provider: NodeProvider }, nodeId: string, warmTimeoutMs: number) {
  const [{ count } = { count: 0 }] = await deps.db
    .select({ count: sql<number>`count(*)::int` })
    .from(workspaces)
    .where(and(eq(workspaces.nodeId, nodeId), inArray(workspaces.status, [...ACTIVE_WORKSPACE_STATUSES])));
  if (count > 0) return "in_use" as const;
  if (warmTimeoutMs > 0) {
    await deps.db
      .update(nodes)
      .set({ warmSince: sql`coalesce(${nodes.warmSince}, now())`, updatedAt: sql`now()` })
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "running")));
    return "warm" as const;
  }
  await destroyNode(deps, nodeId);
  return "destroyed" as const;
}

export async function destroyNode(deps: { db: Executor; provider: NodeProvider }, nodeId: string) {
  const node = await getNode(deps.db, nodeId);
  if (!node || node.status === "stopped") return;
  await deps.db.update(nodes).set({ status: "stopping", updatedAt: sql`now()` }).where(eq(nodes.id, nodeId));
  await deps.provider.destroy(node);
  await deps.db
    .update(nodes)
    .set({ status: "stopped", warmSince: null, health: "unknown", updatedAt: sql`now()` })
    .where(eq(nodes.id, nodeId));
}

/** Warm nodes unused for longer than the warm timeout. */
export async function expiredWarmNodes(db: Executor, warmTimeoutMs: number) {
  return db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.status, "running"), isNotNull(nodes.warmSince), lt(nodes.warmSince, new Date(Date.now() - warmTimeoutMs))));
}
