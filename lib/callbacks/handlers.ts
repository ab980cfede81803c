/**
 * What each vm-agent callback does: write the database first, then wake the task's run. A repeat
 * (the vm-agent retries until it gets a 2xx) wakes the run again: if the app died between its
 * commit and its wake, the retry is what delivers the wake. Wakes are cheap and idempotent: the
 * run reads the database to see what changed.
 */
import type { AgentCompletedCallback, AgentOutputCallback, BootLogCallback, NodeHeartbeatCallback, NodeReadyCallback, ProvisioningFailedCallback, WorkspaceReadyCallback } from "../contracts/vm-agent";
import { nodeReady, workspaceProvisioningFailed, workspaceReady } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";
import type { Runtime } from "../runtime";
import { recordError, recordErrorOnce } from "../errors";
import { destroyNode, getNode, markNodeReady } from "../nodes/lifecycle";
import { recordHeartbeat } from "../nodes/health";
import { GONE_NODE_STATUSES } from "../contracts/statuses";
import { getSession } from "../sessions/lifecycle";
import { recordAgentOutput } from "../sessions/output";
import { holdToBudgetAfterOutput } from "../budgets/enforce";
import { failTask } from "../tasks/fail-task";
import { recordBootLog } from "../workspaces/boot-log";
import { markProvisioningFailed, markWorkspaceReady } from "../workspaces/lifecycle";
import { CallbackRefusedError } from "./errors";
import { applyAgentCompletion } from "./completion";
import { auditHeartbeatSessions } from "./heartbeat-audit";
import { log } from "../log";

/**
 * The node's boot callback. Its endpoint is where the control plane will send management tokens and
 * the task's secrets, so it must be where the provider says the node's machine serves: a node token
 * (leaked, or a compromised node) may not point those calls elsewhere. A refusal is recorded and
 * leaves the node as it was. In team mode a node that cannot run each workspace as its own user is
 * refused (lib/nodes/isolation.ts): its waiting tasks fail saying why, and it is destroyed. So is a
 * node whose daemon speaks another contract version (lib/nodes/contract-version.ts), refused as
 * `contractVersion` (a 409) naming both versions: its report cannot be taken however often it is sent.
 */
export async function nodeReadyCallback(rt: Runtime, nodeId: string, body: NodeReadyCallback) {
  const node = await getNode(rt.db, nodeId);
  // A node that is gone or going is not asked about its endpoint: there is nothing to redirect.
  if (!node || GONE_NODE_STATUSES.includes(node.status)) throw new CallbackRefusedError("gone", `node ${nodeId} is not expected to be running`);
  const refused = await rt.provider.checkEndpoint(node, body.endpoint);
  if (refused) {
    const message = `node ${nodeId} reported an endpoint its provider does not know: ${refused}`;
    await recordErrorOnce(rt.db, { kind: "failure", nodeId, step: "node_agent_ready", message });
    throw new CallbackRefusedError("endpoint", `endpoint is not where node ${nodeId} serves: ${refused}`);
  }
  const ready = await markNodeReady(rt.db, nodeId, body, { kind: "report", authMode: rt.config.AUTH_MODE });
  if (!ready) throw new CallbackRefusedError("gone", `node ${nodeId} is not expected to be running`);
  if (node.certificateFingerprint && node.certificateFingerprint !== body.certificateFingerprint) {
    // Accepted: this report is authenticated by the node's own token, the same proof that set the
    // first pin, and a daemon that lost or outlived its certificate (an expired one, a wiped work
    // folder) must be able to serve again. A stolen node token could move the pin, but it could as
    // well have sent the first report, and the endpoint check above still holds it to the
    // provider's machine. So it is not refused, only made visible to the operator.
    const message = `node ${nodeId} reported a new TLS certificate ${body.certificateFingerprint} (pinned until now: ${node.certificateFingerprint}); calls now pin the new one`;
    log.warn(message, { nodeId });
    await recordError(rt.db, { kind: "recovery", nodeId, step: "node_agent_ready", message });
  }
  await wakeRuns(rt, ready.taskIds.map((taskId) => nodeReady.create({ taskId, nodeId })), "throw");
  if (ready.refused) {
    // A 2xx all the same: the report was taken, and sending it again would change nothing.
    await destroyNode(rt, nodeId, ready.refused);
    if (ready.refusedFor === "contractVersion") throw new CallbackRefusedError("contractVersion", ready.refused);
    return { outcome: "refused" as const, reason: ready.refused };
  }
  return { outcome: "applied" as const };
}

export async function nodeHeartbeatCallback(rt: Runtime, nodeId: string, body: NodeHeartbeatCallback) {
  if (!(await recordHeartbeat(rt.db, nodeId, body))) throw new CallbackRefusedError("gone", `node ${nodeId} is not running`);
  await auditHeartbeatSessions(rt, nodeId, body);
  return { outcome: "applied" as const };
}

export async function workspaceReadyCallback(rt: Runtime, workspaceId: string, body: WorkspaceReadyCallback) {
  const result = await markWorkspaceReady(rt.db, workspaceId, body);
  if (result.outcome !== "ignored" && result.taskId) await wakeRuns(rt, [workspaceReady.create({ taskId: result.taskId, workspaceId })], "throw");
  return { outcome: result.outcome };
}

/** A boot-log report: stored for the task page (its run needs no wake: readiness comes by its own callback). */
export async function bootLogCallback(rt: Runtime, workspaceId: string, body: BootLogCallback) {
  const result = await recordBootLog(rt.db, workspaceId, body);
  if (result.outcome === "ignored") throw new CallbackRefusedError("gone", `workspace ${workspaceId} not found`);
  return result;
}

export async function provisioningFailedCallback(rt: Runtime, workspaceId: string, body: ProvisioningFailedCallback) {
  const result = await rt.db.transaction(async (tx) => {
    const marked = await markProvisioningFailed(tx, workspaceId, body);
    if (marked.outcome === "applied") {
      await failTask(tx, marked.taskId!, marked.message, "workspace_callback", { step: "workspace_ready", workspaceId, nodeId: marked.nodeId });
    }
    return marked;
  });
  if (result.outcome !== "ignored" && result.taskId) await wakeRuns(rt, [workspaceProvisioningFailed.create({ taskId: result.taskId, workspaceId })], "throw");
  return { outcome: result.outcome };
}

/** The session, when both the token and the body speak for the workspace it belongs to. */
async function sessionOfWorkspace(rt: Runtime, sessionId: string, tokenWorkspaceId: string, bodyWorkspaceId: string) {
  const session = await getSession(rt.db, sessionId);
  if (!session) throw new CallbackRefusedError("gone", `agent session ${sessionId} not found`);
  if (session.workspaceId !== tokenWorkspaceId || bodyWorkspaceId !== tokenWorkspaceId) {
    throw new CallbackRefusedError("otherWorkspace", "the token is for another workspace");
  }
  return session;
}

export async function agentOutputCallback(rt: Runtime, sessionId: string, tokenWorkspaceId: string, body: AgentOutputCallback) {
  const session = await sessionOfWorkspace(rt, sessionId, tokenWorkspaceId, body.workspaceId);
  const recorded = await recordAgentOutput(rt.db, sessionId, body, rt.config.TASK_OUTPUT_MAX_BYTES);
  // What the batch's responses cost counts against the budgets at once (a resent batch adds nothing).
  if (recorded.outcome === "applied") await holdToBudgetAfterOutput(rt, session, body);
  return recorded;
}

export async function agentCompletedCallback(rt: Runtime, sessionId: string, tokenWorkspaceId: string, body: AgentCompletedCallback) {
  await sessionOfWorkspace(rt, sessionId, tokenWorkspaceId, body.workspaceId);
  return { outcome: (await applyAgentCompletion(rt, sessionId, body)).outcome };
}
