/**
 * The node lifecycle on the control plane side: provision (once, under a lease), ready, destroy.
 * Statuses and their sets live in statuses.ts; the warm pool in pool.ts; health in health.ts.
 */
import { and, eq, inArray, isNull, lt, notInArray, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodes, tasks } from "@/db/schema";
import { signNodeCallbackToken } from "../auth/tokens";
import type { KeyPair } from "../auth/keys";
import type { Config } from "../config";
import type { NodeReadyCallback } from "../contracts/vm-agent";
import { recordError } from "../errors";
import { publishNodeChange, publishTaskChange } from "../live/publish";
import { failTask } from "../tasks/fail-task";
import { contractVersionRefusal } from "./contract-version";
import { isolationVerdict, reportedIsolation } from "./isolation";
import { createNodeEnrollment } from "./enrollment";
import type { CreatedNode, NodeCredential, NodeProvider } from "./provider";
import { PROVISIONING_NODE_STATUSES, TERMINAL_TASK_STATUSES, WANTED_NODE_STATUSES } from "../contracts/statuses";

export type ProvisionDeps = {
  db: Executor;
  provider: NodeProvider;
  keys: KeyPair;
  controlPlaneUrl: string;
  callbackTtlMs: number;
  /** How long a node that boots from user data may take to exchange its enrollment token (NODE_ENROLLMENT_TTL). */
  enrollmentTtlMs: number;
  leaseMs: number;
};

export async function getNode(db: Executor, nodeId: string) {
  const [row] = await db.select().from(nodes).where(eq(nodes.id, nodeId));
  return row;
}

/**
 * Starts the node's daemon through the provider its row names (a local vm-agent process; a cloud
 * machine), for its owner. A node on another machine sends its callbacks (its tokens, the agents'
 * output) across the network, so the control plane's URL must then be HTTPS; the daemon would
 * refuse to start otherwise anyway. A machine that boots from user data its processes can read
 * later gets a one-time enrollment token in it, never the callback token (enrollment.ts); a step
 * run again mints another, and whichever the machine booted with still works until one is used.
 */
export async function startNodeDaemon(deps: Omit<ProvisionDeps, "leaseMs">, node: { id: string; userId: string; provider: string }, taskId?: string) {
  const provider = deps.provider.providerOf?.(node) ?? deps.provider;
  if (!provider.sharedHost && new URL(deps.controlPlaneUrl).protocol !== "https:") {
    throw new Error(`APP_URL must be https:// for ${node.provider} nodes, which call back from other machines (it is ${deps.controlPlaneUrl})`);
  }
  const credential: NodeCredential = provider.bootsFromUserData
    ? { kind: "enrollment", token: await createNodeEnrollment(deps.db, node.id, deps.enrollmentTtlMs) }
    : { kind: "callback", token: await signNodeCallbackToken(deps.keys, { nodeId: node.id }, deps.callbackTtlMs) };
  return deps.provider.create({
    nodeId: node.id,
    userId: node.userId,
    provider: node.provider,
    ...(taskId ? { taskId } : {}),
    controlPlaneUrl: deps.controlPlaneUrl,
    credential,
    publicJwk: deps.keys.publicJwk,
  });
}

/**
 * Creates the machine of a node row that selection inserted. Idempotent: a node that already has
 * its server is left alone, and a lease makes sure two tasks sharing a new node never both call
 * the provider. Returns false when someone else holds the lease (the caller waits for ready).
 * A provider that fails gives the lease back, so the next try (after the provider's wait) may call it again.
 */
export async function provisionNode(deps: ProvisionDeps, nodeId: string, taskId?: string): Promise<boolean> {
  const [node] = await deps.db
    .update(nodes)
    .set({ provisionLeaseUntil: sql`now() + ${`${deps.leaseMs} milliseconds`}::interval` })
    .where(
      and(
        eq(nodes.id, nodeId),
        isNull(nodes.providerServerId),
        inArray(nodes.status, PROVISIONING_NODE_STATUSES),
        or(isNull(nodes.provisionLeaseUntil), lt(nodes.provisionLeaseUntil, sql`now()`)),
      ),
    )
    .returning({ id: nodes.id, userId: nodes.userId, provider: nodes.provider });
  if (!node) return false;
  let created: CreatedNode;
  try {
    created = await startNodeDaemon(deps, node, taskId);
  } catch (error) {
    await deps.db.update(nodes).set({ provisionLeaseUntil: null }).where(and(eq(nodes.id, nodeId), isNull(nodes.providerServerId)));
    throw error;
  }
  await deps.db
    .update(nodes)
    .set({ providerServerId: created.providerServerId, endpoint: created.endpoint ?? null, provisionLeaseUntil: null, updatedAt: sql`now()` })
    .where(eq(nodes.id, nodeId));
  await publishNodeChange(deps.db);
  return true;
}

/** Non-terminal tasks placed on a node: theirs are the pages that show it and the runs that wait on it. */
export async function tasksOnNode(executor: Executor, nodeId: string) {
  return executor
    .select({ id: tasks.id })
    .from(tasks)
    .where(and(eq(tasks.nodeId, nodeId), isNull(tasks.cleanedUpAt), notInArray(tasks.status, [...TERMINAL_TASK_STATUSES])));
}

/** Publishes the node's change to its tasks' pages, and returns those tasks. */
export async function publishForNode(executor: Executor, nodeId: string) {
  const affected = await tasksOnNode(executor, nodeId);
  for (const task of affected) await publishTaskChange(executor, task.id, "node");
  return affected.map((t) => t.id);
}

/**
 * Where the readiness comes from. `report`: the daemon's ready callback, judged under `authMode`.
 * `adopted`: the monitor marks ready a node that answers though its report never came; what the
 * daemon did not say (its isolation) stays unrecorded until the report, which it sends again.
 */
export type ReadySource = { kind: "report"; authMode: Config["AUTH_MODE"] } | { kind: "adopted" };

/**
 * The tasks to wake; `refused`: the node may get no work (isolation.ts) and is to be destroyed;
 * `contractVersion` when that is because its daemon speaks another contract version (contract-version.ts).
 */
export type ReadyOutcome = { taskIds: string[]; refused?: string; refusedFor?: "contractVersion" };

/**
 * The vm-agent's boot callback: the node is running, with the isolation it reported. A node whose
 * daemon speaks another contract version, or that team mode refuses for its isolation, is marked
 * `error` with why instead, and the tasks waiting on it fail with that message (another node of the
 * same provider would say the same); the caller wakes them and destroys the node. Undefined when the
 * node is unknown or no longer wanted.
 */
export async function markNodeReady(db: Executor, nodeId: string, body: NodeReadyCallback, source: ReadySource): Promise<ReadyOutcome | undefined> {
  return db.transaction(async (tx) => {
    const isolation = source.kind === "report" ? reportedIsolation(body.isolation) : undefined;
    const contractRefusal = source.kind === "report" ? contractVersionRefusal(nodeId, body.contractVersion) : undefined;
    const verdict = contractRefusal
      ? ({ kind: "refused", message: contractRefusal } as const)
      : source.kind === "report" && isolation
        ? isolationVerdict(source.authMode, { id: nodeId, ...isolation })
        : undefined;
    if (verdict?.kind === "refused") {
      const refused = await tx
        .update(nodes)
        .set({ ...isolation, status: "error", health: "unhealthy", endpoint: body.endpoint, certificateFingerprint: body.certificateFingerprint, warmSince: null, errorMessage: verdict.message, updatedAt: sql`now()` })
        .where(and(eq(nodes.id, nodeId), inArray(nodes.status, WANTED_NODE_STATUSES)))
        .returning({ id: nodes.id });
      if (!refused.length) return undefined;
      await recordError(tx, { nodeId, step: "node_agent_ready", message: verdict.message });
      // Failing a task publishes its change; its run, once woken, finds it ended and cleans up.
      const waiting = await tasksOnNode(tx, nodeId);
      for (const task of waiting) await failTask(tx, task.id, verdict.message, "system", { step: "node_agent_ready", nodeId });
      await publishNodeChange(tx);
      return { taskIds: waiting.map((t) => t.id), refused: verdict.message, ...(contractRefusal ? { refusedFor: "contractVersion" as const } : {}) };
    }
    const updated = await tx
      .update(nodes)
      .set({
        ...isolation,
        status: "running",
        health: "healthy",
        endpoint: body.endpoint,
        // Pinned from now on: every call to the node refuses another certificate (pinned-tls.ts).
        certificateFingerprint: body.certificateFingerprint,
        lastHeartbeatAt: sql`now()`,
        healthCheckedAt: sql`now()`,
        errorMessage: null,
        updatedAt: sql`now()`,
      })
      .where(and(eq(nodes.id, nodeId), inArray(nodes.status, WANTED_NODE_STATUSES)))
      .returning({ id: nodes.id });
    if (!updated.length) return undefined;
    await publishNodeChange(tx);
    return { taskIds: await publishForNode(tx, nodeId) };
  });
}

/** Destroys the node's machine and marks it stopped. Idempotent; the provider's destroy is too. */
export async function destroyNode(deps: { db: Executor; provider: NodeProvider }, nodeId: string, reason?: string) {
  const node = await getNode(deps.db, nodeId);
  if (!node || node.status === "stopped") return;
  // A lost node (`error`) keeps its status until its machine is really gone: it still costs money.
  if (node.status !== "error") await deps.db.update(nodes).set({ status: "stopping", updatedAt: sql`now()` }).where(eq(nodes.id, nodeId));
  await deps.provider.destroy(node);
  await deps.db
    .update(nodes)
    .set({ status: "stopped", warmSince: null, health: "unknown", ...(reason && !node.errorMessage ? { errorMessage: reason } : {}), updatedAt: sql`now()` })
    .where(eq(nodes.id, nodeId));
  await publishNodeChange(deps.db);
}
