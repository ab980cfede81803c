/**
 * What each stage of a task's run does. The Inngest function (inngest/functions/run-task.ts)
 * decides order, waiting and retries; these functions do the work, each safe to run twice: they
 * check the database before they act.
 */
import { signWorkspaceCallbackToken } from "../auth/tokens";
import { getNode, provisionNode, releaseNode } from "../nodes/lifecycle";
import { selectNode } from "../nodes/selection";
import { vmAgentClient, VmAgentRequestError } from "../nodes/vm-agent-client";
import type { Runtime } from "../runtime";
import { ensureSessionRow, getSession } from "../sessions/lifecycle";
import { isTerminal, transitionTask } from "../tasks/state-machine";
import { finishStep, skipStep, startStep } from "../tasks/timeline";
import { getTask } from "../tasks/queries";
import type { TaskStatus } from "../contracts/api";
import type { AgentKind } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { ensureWorkspaceRow, getWorkspace, markWorkspaceStopped } from "../workspaces/lifecycle";

export type Readiness = "ready" | "failed" | "pending";

/** The task, or undefined when it no longer wants work done (terminal or gone). */
export async function activeTask(rt: Runtime, taskId: string) {
  const task = await getTask(rt.db, taskId);
  return task && !isTerminal(task.status as TaskStatus) ? task : undefined;
}

function clientFor(rt: Runtime, node: { id: string; endpoint: string | null }) {
  if (!node.endpoint) throw new VmAgentRequestError(`node ${node.id} has no endpoint yet`, undefined, false);
  return vmAgentClient({
    endpoint: node.endpoint,
    nodeId: node.id,
    key: rt.keys,
    tokenTtlMs: rt.config.NODE_MANAGEMENT_TOKEN_TTL,
    timeoutMs: rt.config.VM_AGENT_REQUEST_TIMEOUT,
  });
}

export async function selectNodeStage(rt: Runtime, taskId: string): Promise<{ nodeId: string | null }> {
  await startStep(rt.db, taskId, "node_selection");
  const nodeId = await selectNode(rt.db, rt.userId, {
    maxWorkspacesPerNode: rt.config.MAX_WORKSPACES_PER_NODE,
    cpuThreshold: rt.config.NODE_CPU_THRESHOLD,
    memoryThreshold: rt.config.NODE_MEMORY_THRESHOLD,
  });
  await finishStep(rt.db, taskId, "node_selection", "succeeded", nodeId ? `using node ${nodeId}` : "no node has room; provisioning one");
  if (nodeId) await skipStep(rt.db, taskId, "node_provisioning", "an existing node had room");
  return { nodeId: nodeId ?? null };
}

export async function provisionNodeStage(rt: Runtime, taskId: string): Promise<{ nodeId: string }> {
  await startStep(rt.db, taskId, "node_provisioning");
  const node = await provisionNode(
    { db: rt.db, provider: rt.provider, keys: rt.keys, controlPlaneUrl: rt.config.APP_URL, callbackTtlMs: rt.config.CALLBACK_TOKEN_TTL },
    { nodeId: `n_${taskId}`, userId: rt.userId, maxNodesPerUser: rt.config.MAX_NODES_PER_USER },
  );
  await finishStep(rt.db, taskId, "node_provisioning", "succeeded", `${node.provider} node ${node.id}`);
  return { nodeId: node.id };
}

export async function nodeReadiness(rt: Runtime, taskId: string, nodeId: string): Promise<Readiness> {
  await startStep(rt.db, taskId, "node_agent_ready");
  const node = await getNode(rt.db, nodeId);
  if (!node || ["stopping", "stopped", "error"].includes(node.status)) return "failed";
  if (node.status !== "running") return "pending";
  await finishStep(rt.db, taskId, "node_agent_ready", "succeeded", node.endpoint ?? undefined);
  return "ready";
}

export async function createWorkspaceStage(rt: Runtime, taskId: string, nodeId: string): Promise<{ workspaceId: string }> {
  const task = await getTask(rt.db, taskId);
  const node = await getNode(rt.db, nodeId);
  if (!task || !node) throw new Error(`task ${taskId} or node ${nodeId} vanished`);
  await startStep(rt.db, taskId, "workspace_creation");
  const workspace = await ensureWorkspaceRow(rt.db, { taskId, nodeId, branch: task.branch });
  if (workspace.status === "creating") {
    const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId: workspace.id }, rt.config.CALLBACK_TOKEN_TTL);
    await clientFor(rt, node).createWorkspace({
      workspaceId: workspace.id,
      taskId,
      repository: task.repository,
      branch: task.branch,
      callbackToken,
    });
  }
  await transitionTask(rt.db, { taskId, to: "delegated", actor: "system", from: ["queued"], reason: `workspace ${workspace.id} requested` });
  await finishStep(rt.db, taskId, "workspace_creation", "succeeded", `workspace ${workspace.id} on ${nodeId}`);
  return { workspaceId: workspace.id };
}

export async function workspaceReadiness(rt: Runtime, taskId: string, workspaceId: string): Promise<Readiness> {
  await startStep(rt.db, taskId, "workspace_ready");
  const workspace = await getWorkspace(rt.db, workspaceId);
  if (!workspace || ["error", "stopping", "stopped"].includes(workspace.status)) return "failed";
  if (workspace.status !== "running") return "pending";
  await finishStep(rt.db, taskId, "workspace_ready", "succeeded", workspace.baseCommit ? `from ${workspace.baseCommit.slice(0, 12)}` : undefined);
  return "ready";
}

export async function startAgentStage(rt: Runtime, taskId: string, workspaceId: string): Promise<{ sessionId: string }> {
  const task = await getTask(rt.db, taskId);
  const workspace = await getWorkspace(rt.db, workspaceId);
  const node = workspace && (await getNode(rt.db, workspace.nodeId));
  if (!task || !workspace || !node) throw new Error(`task ${taskId}, its workspace or its node vanished`);
  await startStep(rt.db, taskId, "agent_session");
  const session = await ensureSessionRow(rt.db, { workspaceId, taskId, agent: task.agent });
  const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId }, rt.config.CALLBACK_TOKEN_TTL);
  await clientFor(rt, node).startAgentSession(workspaceId, session.id, {
    agent: task.agent as AgentKind,
    prompt: task.prompt,
    callbackToken,
  });
  await transitionTask(rt.db, { taskId, to: "in_progress", actor: "system", from: ["delegated"], reason: `session ${session.id} started` });
  await finishStep(rt.db, taskId, "agent_session", "succeeded", `${task.agent} session ${session.id}`);
  await startStep(rt.db, taskId, "running");
  return { sessionId: session.id };
}

export async function agentReadiness(rt: Runtime, sessionId: string): Promise<Readiness> {
  const session = await getSession(rt.db, sessionId);
  if (!session || session.status === "error") return "failed";
  return session.status === "running" ? "pending" : "ready";
}

/** The agent finished well: clean up, then the task is completed. */
export async function completeTaskStage(rt: Runtime, taskId: string) {
  const task = await getTask(rt.db, taskId);
  await finishStep(rt.db, taskId, "running", "succeeded", task?.commitSha ? `commit ${task.commitSha.slice(0, 12)}` : "no changes");
  await startStep(rt.db, taskId, "cleanup");
  const detail = await cleanupTask(rt, taskId);
  await finishStep(rt.db, taskId, "cleanup", "succeeded", detail);
  await transitionTask(rt.db, { taskId, to: "completed", actor: "system", from: ["in_progress"], reason: "agent finished" });
}

/**
 * Stops the task's workspace on its node and releases the node. Safe to repeat, and safe when
 * the node is already gone.
 */
export async function cleanupTask(rt: Runtime, taskId: string): Promise<string> {
  const task = await getTask(rt.db, taskId);
  if (!task?.workspaceId) {
    if (task?.nodeId) return `node ${await releaseNode(rt, task.nodeId, rt.config.NODE_WARM_TIMEOUT)}`;
    return "nothing to clean up";
  }
  const workspace = await getWorkspace(rt.db, task.workspaceId);
  if (!workspace) return "nothing to clean up";
  const node = await getNode(rt.db, workspace.nodeId);
  if (node?.endpoint && node.status === "running") {
    try {
      await clientFor(rt, node).stopWorkspace(workspace.id);
    } catch (error) {
      // A node that no longer knows the workspace has nothing left to stop.
      if (!(error instanceof VmAgentRequestError && error.status === 404)) throw error;
    }
  }
  await markWorkspaceStopped(rt.db, workspace.id);
  const released = await releaseNode(rt, workspace.nodeId, rt.config.NODE_WARM_TIMEOUT);
  await publishTaskChange(rt.db, taskId, "node");
  return `workspace stopped; node ${released}`;
}
