/**
 * The work stages of a run: create the workspace on the node, wait for it, start the agent, wait
 * for it. Each checks the database before it acts, so a retried step or a re-driven run never
 * creates a second workspace or starts a second agent.
 */
import { signWorkspaceCallbackToken } from "../auth/tokens";
import { applyAgentCompletion } from "../callbacks/completion";
import type { AgentKind } from "../contracts/vm-agent";
import type { Runtime } from "../runtime";
import { getNode } from "../nodes/lifecycle";
import { ENDED_SESSION_STATUSES, ENDED_WORKSPACE_STATUSES, GONE_NODE_STATUSES, type NodeStatus } from "../contracts/statuses";
import { clientForNode, VmAgentRequestError } from "../nodes/vm-agent-client";
import { ensureSessionRow, getSession, markSessionStarted } from "../sessions/lifecycle";
import { isTerminal, transitionTask } from "../tasks/state-machine";
import { finishStep, startStep } from "../tasks/timeline";
import { taskAttribution } from "../tasks/attribution";
import { getTask } from "../tasks/queries";
import { ensureWorkspaceRow, getWorkspace } from "../workspaces/lifecycle";
import { sessionSecrets, workspaceSecrets } from "../secrets/agent-keys";
import { ENDED, LOST, PENDING } from "./placement";
import { recordRunSawAgentEnd } from "../runs/steps";
import { forgeHosts } from "../forge-target";
import { workspaceEgress } from "../egress/settings";

const keySource = (rt: Runtime) => ({ executor: rt.db, ring: rt.secrets, config: rt.config });

const gone = (node: { status: NodeStatus } | undefined) => !node || GONE_NODE_STATUSES.includes(node.status);

/** Runs a call to the node; a node that cannot be reached and is gone (or going) means LOST, anything else throws for a retry. */
export async function onNode<T>(rt: Runtime, nodeId: string, call: () => Promise<T>): Promise<T | typeof LOST> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof VmAgentRequestError && error.status === undefined) {
      const node = await getNode(rt.db, nodeId);
      if (gone(node) || (node && rt.provider.isRunning?.(node) === false)) return LOST;
    }
    throw error;
  }
}

export async function createWorkspaceStage(rt: Runtime, taskId: string, nodeId: string, attempt: number): Promise<{ workspaceId: string } | typeof ENDED | typeof LOST> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  const node = await getNode(rt.db, nodeId);
  if (gone(node) || task.nodeId !== nodeId) return LOST;
  await startStep(rt.db, taskId, "workspace_creation", { restart: attempt > 0 });
  const workspace = await ensureWorkspaceRow(rt.db, { taskId, nodeId, branch: task.branch });
  if (workspace.status === "creating") {
    const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId: workspace.id }, rt.config.CALLBACK_TOKEN_TTL);
    // Read inside the step and sent, never returned: a step's result is stored by the engine.
    const secrets = await workspaceSecrets(keySource(rt), task.userId, task.repository);
    const attribution = await taskAttribution(rt.db, rt.config, task);
    const sent = await onNode(rt, nodeId, () =>
      clientForNode(rt, node!).createWorkspace({ workspaceId: workspace.id, taskId, repository: task.repository, branch: task.branch, ...(task.baseBranch ? { baseBranch: task.baseBranch } : {}), callbackToken, secrets, attribution, forgeHosts: forgeHosts(rt.config.GITHUB_URL), egress: workspaceEgress(task, rt.config) }),
    );
    if (sent === LOST) return LOST;
  }
  await transitionTask(rt.db, { taskId, to: "delegated", actor: "system", from: ["queued"], reason: `workspace ${workspace.id} requested` });
  await finishStep(rt.db, taskId, "workspace_creation", "succeeded", `workspace ${workspace.id} on ${nodeId}`);
  return { workspaceId: workspace.id };
}

export type WorkspaceState = "ready" | { failed: string } | typeof PENDING | typeof ENDED | typeof LOST;

export async function workspaceReadiness(rt: Runtime, taskId: string, workspaceId: string, attempt: number): Promise<WorkspaceState> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  await startStep(rt.db, taskId, "workspace_ready", { restart: attempt > 0 });
  const workspace = await getWorkspace(rt.db, workspaceId);
  if (!workspace || task.workspaceId !== workspaceId || gone(await getNode(rt.db, workspace.nodeId))) return LOST;
  if (ENDED_WORKSPACE_STATUSES.includes(workspace.status)) return { failed: workspace.errorMessage ?? `workspace ${workspaceId} is ${workspace.status}` };
  if (workspace.status !== "running") return PENDING;
  await finishStep(rt.db, taskId, "workspace_ready", "succeeded", workspace.baseCommit ? `from ${workspace.baseCommit.slice(0, 12)}` : undefined);
  return "ready";
}

/**
 * Starts the agent once: the session row is `starting` until the node accepts (the request is
 * idempotent by session id). On a re-driven run whose session is already running, the node is
 * asked how it is: a turn that finished while no run was waiting is applied from its answer.
 */
export async function startAgentStage(rt: Runtime, taskId: string, workspaceId: string, attempt: number): Promise<{ sessionId: string } | typeof ENDED | typeof LOST> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  const workspace = await getWorkspace(rt.db, workspaceId);
  const node = workspace && (await getNode(rt.db, workspace.nodeId));
  if (!workspace || !node || gone(node) || task.workspaceId !== workspaceId) return LOST;
  await startStep(rt.db, taskId, "agent_session", { restart: attempt > 0 });
  const session = await ensureSessionRow(rt.db, { workspaceId, taskId, agent: task.agent });
  const client = clientForNode(rt, node);
  if (session.status === "starting") {
    const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId }, rt.config.CALLBACK_TOKEN_TTL);
    const agent = task.agent as AgentKind;
    const secrets = await sessionSecrets(keySource(rt), task.userId, agent, task.repository);
    const started = await onNode(rt, node.id, () => client.startAgentSession(workspaceId, session.id, { agent, prompt: task.prompt, callbackToken, secrets, forgeHosts: forgeHosts(rt.config.GITHUB_URL), ...(task.model ? { model: task.model } : {}) }));
    if (started === LOST) return LOST;
    await markSessionStarted(rt.db, session.id);
  } else if (session.status === "running") {
    const state = await onNode(rt, node.id, () => client.sessionState(workspaceId, session.id));
    if (state === LOST) return LOST;
    if (state?.completion) await applyAgentCompletion(rt, session.id, state.completion);
  }
  await transitionTask(rt.db, { taskId, to: "in_progress", actor: "system", from: ["delegated"], reason: `session ${session.id} started` });
  await finishStep(rt.db, taskId, "agent_session", "succeeded", `${task.agent} session ${session.id}`);
  await startStep(rt.db, taskId, "running", { restart: attempt > 0 });
  return { sessionId: session.id };
}

export type AgentState = "completed" | "failed" | typeof PENDING | typeof ENDED | typeof LOST;

export async function agentReadiness(rt: Runtime, taskId: string, sessionId: string): Promise<AgentState> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  const session = await getSession(rt.db, sessionId);
  if (!session) return LOST;
  if (ENDED_SESSION_STATUSES.includes(session.status)) {
    // The run is alive and has seen its agent end: no stall (lib/runs/stalled.ts).
    await recordRunSawAgentEnd(rt.db, taskId, session.endedAt);
    return session.status === "stopped" ? "completed" : "failed";
  }
  const workspace = await getWorkspace(rt.db, session.workspaceId);
  if (!workspace || gone(await getNode(rt.db, workspace.nodeId))) return LOST;
  return PENDING;
}
