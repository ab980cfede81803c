/**
 * Node health on the control plane side: heartbeats, probes and the verdict that a node is lost.
 * healthy → stale (no heartbeat for HEARTBEAT_STALE_AFTER) → unhealthy (a probe got no answer) →
 * lost (status `error`, after NODE_LOST_AFTER more): its tasks go on elsewhere or fail, and its
 * machine is destroyed. A local node's process that is gone is known at once (the provider).
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodes } from "@/db/schema";
import type { SigningKey } from "../auth/tokens";
import type { Config } from "../config";
import { MONITORED_NODE_STATUSES, WANTED_NODE_STATUSES } from "../contracts/statuses";
import type { NodeHeartbeatCallback } from "../contracts/vm-agent";
import { recordError } from "../errors";
import { publishNodeChange } from "../live/publish";
import { destroyNode, publishForNode } from "./lifecycle";
import { nodeLost } from "../contracts/events";
import { wakeRuns, type WakeDeps } from "../tasks/wake-run";
import type { NodeProvider } from "./provider";
import { vmAgentClient, type CallableNode } from "./vm-agent-client";

/** A heartbeat: metrics and last contact; a node that was stale or unhealthy is healthy again. */
export async function recordHeartbeat(db: Executor, nodeId: string, body: NodeHeartbeatCallback) {
  return db.transaction(async (tx) => {
    const [before] = await tx.select({ health: nodes.health }).from(nodes).where(eq(nodes.id, nodeId));
    const updated = await tx
      .update(nodes)
      .set({
        cpuPercent: body.cpuPercent,
        memoryPercent: body.memoryPercent,
        diskPercent: body.diskPercent,
        lastHeartbeatAt: sql`now()`,
        healthCheckedAt: sql`now()`,
        health: "healthy",
        updatedAt: sql`now()`,
      })
      .where(and(eq(nodes.id, nodeId), eq(nodes.status, "running")))
      .returning({ id: nodes.id });
    if (!updated.length) return false;
    if (before?.health !== "healthy") await publishForNode(tx, nodeId);
    await publishNodeChange(tx);
    return true;
  });
}

export type ProbeDeps = { keys: SigningKey; config: Pick<Config, "NODE_HEALTH_PROBE_TIMEOUT" | "NODE_MANAGEMENT_TOKEN_TTL"> };

/**
 * GET /health with a short timeout and a token for the node: true when the node answers as itself.
 * Without the token a vm-agent only says it is up; with it, a daemon serving another node at that
 * address refuses (401) rather than passing for this one. Over the node's pinned certificate only: a
 * node without a pin is not asked, and one presenting another certificate does not answer.
 */
export async function probeNode(deps: ProbeDeps, node: CallableNode): Promise<boolean> {
  if (!node.endpoint || !node.certificateFingerprint) return false;
  const client = vmAgentClient({
    endpoint: node.endpoint,
    nodeId: node.id,
    certificateFingerprint: node.certificateFingerprint,
    key: deps.keys,
    tokenTtlMs: deps.config.NODE_MANAGEMENT_TOKEN_TTL,
    timeoutMs: deps.config.NODE_HEALTH_PROBE_TIMEOUT,
  });
  try {
    return (await client.health())?.nodeId === node.id;
  } catch {
    return false;
  }
}

/**
 * Records a probe's answer: contact on success; unhealthy on failure. A node probed because its
 * heartbeats stopped (`heartbeatStale`) stays `stale` when it answers: it is up, but its load is not
 * known, so it gets no new work until a heartbeat comes again.
 */
export async function recordProbe(db: Executor, nodeId: string, answered: boolean, options: { heartbeatStale?: boolean } = {}) {
  await db
    .update(nodes)
    .set(
      answered
        ? { health: options.heartbeatStale ? "stale" : "healthy", lastHeartbeatAt: sql`now()`, healthCheckedAt: sql`now()`, updatedAt: sql`now()` }
        : { health: "unhealthy", healthCheckedAt: sql`now()`, updatedAt: sql`now()` },
    )
    .where(and(eq(nodes.id, nodeId), inArray(nodes.status, MONITORED_NODE_STATUSES)));
  await publishNodeChange(db);
}

export type LostNodeDeps = WakeDeps & { db: Executor; provider: NodeProvider };

/**
 * The node is gone: it is marked `error` with why, its tasks' runs are woken (each decides: go on
 * on another node, or fail naming the node and the work lost), and its machine is destroyed.
 */
export async function markNodeLost(deps: LostNodeDeps, nodeId: string, why: string) {
  const message = `node ${nodeId} lost: ${why}`;
  const taskIds = await deps.db.transaction(async (tx) => {
    const lost = await tx
      .update(nodes)
      .set({ status: "error", health: "unhealthy", warmSince: null, errorMessage: message, updatedAt: sql`now()` })
      .where(and(eq(nodes.id, nodeId), inArray(nodes.status, WANTED_NODE_STATUSES)))
      .returning({ id: nodes.id });
    if (!lost.length) return undefined;
    await recordError(tx, { nodeId, message, step: "node_health" });
    await publishNodeChange(tx);
    return publishForNode(tx, nodeId);
  });
  if (!taskIds) return false;
  await wakeRuns(deps, taskIds.map((taskId) => nodeLost.create({ taskId, nodeId })), "throw");
  await destroyNode(deps, nodeId, message);
  return true;
}
