/**
 * The placement stages of a run: select a node (reserving its slot), create it when selection
 * inserted a new one, and wait for its daemon. A node that is lost before the agent starts costs
 * the task nothing: the task leaves it and is placed again (the run counts the attempts).
 */
import { and, eq, sql } from "drizzle-orm";
import { tasks } from "@/db/schema";
import type { Runtime } from "../runtime";
import { recordError } from "../errors";
import { publishTaskChange } from "../live/publish";
import { markNodeLost, probeNode, recordProbe } from "../nodes/health";
import { getNode, provisionNode } from "../nodes/lifecycle";
import { isolationVerdict } from "../nodes/isolation";
import { NodeProviderError } from "../nodes/provider";
import { reapIfIdle } from "../nodes/pool";
import { leaveNode, placeTask, selectionLimits } from "../nodes/selection";
import { failTask } from "../tasks/fail-task";
import { finishStep, setStepDetail, skipStep, startStep } from "../tasks/timeline";
import { markWorkspacesLost } from "../workspaces/lifecycle";
import { ENDED, LOST, openStage, PENDING } from "./stage";

export type Selection = { nodeId: string; provision: boolean } | { queued: string } | typeof ENDED;

/** The selection step: a slot on a node (probing an idle node before using it), or why the task waits. */
export async function selectNodeStage(rt: Runtime, taskId: string, attempt: number): Promise<Selection> {
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return ENDED;
  const { task } = stage;
  await startStep(rt.db, taskId, "node_selection", { restart: attempt > 0 });
  const exclude: string[] = [];
  for (let probe = 0; probe < 5; probe++) {
    const placed = await placeTask(rt.db, {
      taskId,
      userId: task.userId,
      provider: rt.provider.name,
      authMode: rt.config.AUTH_MODE,
      exclude,
      limits: selectionLimits(rt.config, rt.provider),
    });
    if (placed.kind === "queued") {
      await setStepDetail(rt.db, taskId, "node_selection", placed.reason);
      return { queued: placed.reason };
    }
    // A warm node may have died while nobody used it: it must answer before it gets the task.
    if (placed.wasIdle) {
      const node = await getNode(rt.db, placed.nodeId);
      const answered = !!node && (rt.provider.isRunning?.(node) ?? true) && (await probeNode(rt, node));
      if (!answered) {
        await recordProbe(rt.db, placed.nodeId, false);
        await leaveNode(rt.db, taskId, placed.nodeId);
        exclude.push(placed.nodeId);
        await letUnansweringNodeGo(rt, taskId, placed.nodeId);
        continue;
      }
    }
    const how = placed.created ? `a new node ${placed.nodeId}` : `node ${placed.nodeId}${placed.status === "creating" ? " (still being created)" : ""}`;
    await finishStep(rt.db, taskId, "node_selection", "succeeded", exclude.length ? `${how}; skipped ${exclude.join(", ")}: no answer` : how);
    if (!placed.created && placed.status === "running") await skipStep(rt.db, taskId, "node_provisioning", "an existing node had room");
    return { nodeId: placed.nodeId, provision: placed.status !== "running" };
  }
  throw new Error(`no node of task ${taskId} answered its probe in 5 tries`);
}

/**
 * Selection took the node out of the warm pool to probe it. Left idle, it would be neither warm nor
 * busy, and nothing reaps such a node (its daemon may even come back: the monitor restarts one that
 * held a slot when it looked). Idle and not answering, it is destroyed; one that holds other work
 * stays, for the monitor to judge. A failed destroy is recorded, not the task's failure.
 */
async function letUnansweringNodeGo(rt: Runtime, taskId: string, nodeId: string) {
  try {
    await reapIfIdle(rt, nodeId, 0, `it did not answer its probe when task ${taskId} was placed`);
  } catch (error) {
    await recordError(rt.db, { taskId, nodeId, step: "node_selection", kind: "cleanup", message: `node ${nodeId} did not answer and could not be destroyed: ${(error as Error).message}` });
  }
}

/** The node's machine was asked for (or someone else is asking), or the provider asks to be tried again at `retryAt` (ISO). */
export type Provisioning = { started: boolean } | { retryAt: string };

/**
 * Creates the node's machine when nobody has yet (selection inserted the row). A provider that
 * failed for a while (5xx, its rate limit, no answer) asks for another try at `retryAt`, and the run
 * sleeps until then, up to NODE_PROVISIONING_RETRIES times. One that refused for good (a wrong
 * token, a quota), or kept failing, loses the node (the tasks sharing it move on) and throws a
 * permanent NodeProviderError whose message, the provider's, fails the task.
 */
export async function provisionNodeStage(rt: Runtime, taskId: string, nodeId: string, attempt: number, retry = 0): Promise<Provisioning> {
  await startStep(rt.db, taskId, "node_provisioning", { restart: attempt > 0 });
  let started: boolean;
  try {
    started = await provisionNode(
      {
        db: rt.db,
        provider: rt.provider,
        keys: rt.keys,
        controlPlaneUrl: rt.config.APP_URL,
        callbackTtlMs: rt.config.CALLBACK_TOKEN_TTL,
        enrollmentTtlMs: rt.config.NODE_ENROLLMENT_TTL,
        leaseMs: rt.config.NODE_PROVISIONING_TIMEOUT,
      },
      nodeId,
      taskId,
    );
  } catch (error) {
    if (!(error instanceof NodeProviderError)) throw error;
    if (error.retriable && retry < rt.config.NODE_PROVISIONING_RETRIES) {
      const retryAt = error.retryAt ?? new Date(Date.now() + rt.config.NODE_PROVISIONING_RETRY_BACKOFF * 2 ** retry);
      const detail = `${error.message}; trying again at ${retryAt.toISOString()} (retry ${retry + 1} of NODE_PROVISIONING_RETRIES=${rt.config.NODE_PROVISIONING_RETRIES})`;
      await setStepDetail(rt.db, taskId, "node_provisioning", detail);
      await recordError(rt.db, { taskId, nodeId, step: "node_provisioning", kind: "recovery", message: detail });
      return { retryAt: retryAt.toISOString() };
    }
    const message = error.retriable ? `${error.message} (still failing after ${retry + 1} tries; NODE_PROVISIONING_RETRIES=${rt.config.NODE_PROVISIONING_RETRIES})` : error.message;
    await loseUnprovisionedNode(rt, nodeId, message);
    throw new NodeProviderError(message, { provider: error.provider, code: error.code, status: error.status, retriable: false }, { cause: error });
  }
  await finishStep(rt.db, taskId, "node_provisioning", "succeeded", started ? `${rt.provider.name} node ${nodeId}` : `${rt.provider.name} node ${nodeId}, created for another task`);
  return { started };
}

/** A node whose machine cannot be had is lost, so no task waits on it; what its destroy could not do is left to the safety net. */
async function loseUnprovisionedNode(rt: Runtime, nodeId: string, why: string) {
  try {
    await markNodeLost(rt, nodeId, `its machine could not be created: ${why}`);
  } catch (error) {
    await recordError(rt.db, { nodeId, step: "node_provisioning", kind: "cleanup", message: `node ${nodeId} could not be destroyed after its creation failed: ${(error as Error).message}` });
  }
}

/**
 * A node still being created whose machine the provider reports off or gone will never call back:
 * it is lost now rather than after NODE_AGENT_READY_TIMEOUT. One call to the provider per check
 * (the wait's slices space them); a provider that cannot answer now leaves the wait as it was.
 */
async function machineLost(rt: Runtime, taskId: string, node: { id: string; provider: string; providerServerId: string | null }): Promise<boolean> {
  if (!node.providerServerId || !rt.provider.status) return false;
  let status;
  try {
    status = await rt.provider.status(node);
  } catch (error) {
    if (!(error instanceof NodeProviderError)) throw error;
    await setStepDetail(rt.db, taskId, "node_agent_ready", `could not ask ${node.provider} about node ${node.id}'s machine: ${error.message}`);
    return false;
  }
  if (status !== "off" && status !== "gone") return false;
  await markNodeLost(rt, node.id, `its ${node.provider} machine ${node.providerServerId} is ${status === "off" ? "powered off" : "gone"}`);
  return true;
}

export async function nodeReadiness(rt: Runtime, taskId: string, nodeId: string, attempt: number): Promise<"ready" | typeof PENDING | typeof ENDED | typeof LOST> {
  const stage = await openStage(rt, taskId, { node: nodeId });
  if (stage === ENDED) return ENDED;
  await startStep(rt.db, taskId, "node_agent_ready", { restart: attempt > 0 });
  if (stage.lost) return LOST;
  const { node } = stage;
  if (node.status === "creating" && (await machineLost(rt, taskId, node))) return LOST;
  if (node.status !== "running" || node.health === "restarting") return PENDING;
  // Ready is not enough in team mode: the node must run each workspace as its own user.
  const verdict = isolationVerdict(rt.config.AUTH_MODE, node);
  if (verdict.kind === "unreported") {
    await setStepDetail(rt.db, taskId, "node_agent_ready", `node ${nodeId} answers but has not said yet whether it runs each workspace as its own user; waiting for its ready report`);
    return PENDING;
  }
  if (verdict.kind === "refused") {
    await failTask(rt.db, taskId, verdict.message, "system", { step: "node_agent_ready", nodeId });
    return ENDED;
  }
  await finishStep(rt.db, taskId, "node_agent_ready", "succeeded", node.endpoint ?? undefined);
  return "ready";
}

/**
 * The task's node was lost (or never came up) before its agent started: the task gives up its slot
 * and its workspace there, and the run places it again.
 */
export async function leaveLostNode(rt: Runtime, taskId: string, nodeId: string, why: string) {
  await rt.db.transaction(async (tx) => {
    await markWorkspacesLost(tx, taskId, nodeId, why);
    await tx.update(tasks).set({ workspaceId: null, updatedAt: sql`now()` }).where(and(eq(tasks.id, taskId), eq(tasks.nodeId, nodeId)));
    await leaveNode(tx, taskId, nodeId);
    await recordError(tx, { taskId, nodeId, kind: "recovery", step: "node_selection", message: `${why}; placing the task on another node` });
    await publishTaskChange(tx, taskId, "node");
  });
}
