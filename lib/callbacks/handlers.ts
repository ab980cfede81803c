/**
 * What each vm-agent callback does: write the database first, then emit the event that wakes the
 * task's run. If the event is lost, the run still sees the change at its next database check.
 */
import { inngest } from "@/inngest/client";
import { agentCompleted, agentFailed, nodeReady, workspaceProvisioningFailed, workspaceReady } from "@/inngest/events";
import type { AgentCompletedCallback, AgentOutputCallback, NodeReadyCallback, ProvisioningFailedCallback, WorkspaceReadyCallback } from "../contracts/vm-agent";
import type { Runtime } from "../runtime";
import { markNodeReady } from "../nodes/lifecycle";
import { getSession, recordAgentCompletion } from "../sessions/lifecycle";
import { recordAgentOutput } from "../sessions/output";
import { markProvisioningFailed, markWorkspaceReady } from "../workspaces/lifecycle";
import { HttpError } from "../http/respond";

export async function nodeReadyCallback(rt: Runtime, nodeId: string, body: NodeReadyCallback) {
  const applied = await markNodeReady(rt.db, nodeId, body);
  if (!applied) throw new HttpError(404, `node ${nodeId} is not expected to be running`);
  await inngest.send(nodeReady.create({ nodeId }));
  return { outcome: "applied" as const };
}

export async function workspaceReadyCallback(rt: Runtime, workspaceId: string, body: WorkspaceReadyCallback) {
  const result = await markWorkspaceReady(rt.db, workspaceId, body);
  if (result.outcome === "applied") await inngest.send(workspaceReady.create({ workspaceId, taskId: result.taskId! }));
  return { outcome: result.outcome };
}

export async function provisioningFailedCallback(rt: Runtime, workspaceId: string, body: ProvisioningFailedCallback) {
  const result = await markProvisioningFailed(rt.db, workspaceId, body);
  if (result.outcome === "applied") {
    await inngest.send(workspaceProvisioningFailed.create({ workspaceId, taskId: result.taskId!, error: result.message! }));
  }
  return { outcome: result.outcome };
}

/** The session, when both the token and the body speak for the workspace it belongs to. */
async function sessionOfWorkspace(rt: Runtime, sessionId: string, tokenWorkspaceId: string, bodyWorkspaceId: string) {
  const session = await getSession(rt.db, sessionId);
  if (!session) throw new HttpError(404, `agent session ${sessionId} not found`);
  if (session.workspaceId !== tokenWorkspaceId || bodyWorkspaceId !== tokenWorkspaceId) {
    throw new HttpError(403, "the token is for another workspace");
  }
  return session;
}

export async function agentOutputCallback(rt: Runtime, sessionId: string, tokenWorkspaceId: string, body: AgentOutputCallback) {
  await sessionOfWorkspace(rt, sessionId, tokenWorkspaceId, body.workspaceId);
  return recordAgentOutput(rt.db, sessionId, body);
}

export async function agentCompletedCallback(rt: Runtime, sessionId: string, tokenWorkspaceId: string, body: AgentCompletedCallback) {
  await sessionOfWorkspace(rt, sessionId, tokenWorkspaceId, body.workspaceId);
  const result = await recordAgentCompletion(rt.db, sessionId, body);
  if (result.outcome === "applied") {
    const base = { sessionId, workspaceId: body.workspaceId, taskId: result.taskId! };
    await inngest.send(
      result.message
        ? agentFailed.create({ ...base, error: result.message })
        : agentCompleted.create({ ...base, branch: body.branch, commit: body.commit, pushed: body.pushed }),
    );
  }
  return { outcome: result.outcome };
}
