/**
 * The work stages of a run: create the workspace on the node, wait for it, start the agent, wait
 * for it. Each checks the database before it acts, so a retried step or a re-driven run never
 * creates a second workspace or starts a second agent.
 */
import { signWorkspaceCallbackToken } from "../auth/tokens";
import { applyAgentCompletion } from "../callbacks/completion";
import type { AgentKind } from "../contracts/vm-agent";
import type { Runtime } from "../runtime";
import { ENDED_SESSION_STATUSES, ENDED_WORKSPACE_STATUSES } from "../contracts/statuses";
import { ensureSessionRow, markSessionStarted } from "../sessions/lifecycle";
import { transitionTask } from "../tasks/state-machine";
import { finishStep, startStep } from "../tasks/timeline";
import { taskAttribution } from "../tasks/attribution";
import { ensureWorkspaceRow } from "../workspaces/lifecycle";
import { sessionSecrets, workspaceSecrets } from "../secrets/agent-keys";
import { ENDED, keySource, LOST, openStage, PENDING } from "./stage";
import { recordRunSawAgentEnd } from "../runs/steps";
import { forgeHosts } from "../forge-target";
import { workspaceEgress } from "../egress/settings";

export async function createWorkspaceStage(rt: Runtime, taskId: string, nodeId: string, attempt: number): Promise<{ workspaceId: string } | typeof ENDED | typeof LOST> {
  const stage = await openStage(rt, taskId, { node: nodeId });
  if (stage === ENDED) return ENDED;
  if (stage.lost) return LOST;
  const { task } = stage;
  await startStep(rt.db, taskId, "workspace_creation", { restart: attempt > 0 });
  const workspace = await ensureWorkspaceRow(rt.db, { taskId, nodeId, branch: task.branch });
  if (workspace.status === "creating") {
    const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId: workspace.id }, rt.config.CALLBACK_TOKEN_TTL);
    // Read inside the step and sent, never returned: a step's result is stored by the engine.
    const secrets = await workspaceSecrets(keySource(rt), task.userId, task.repository);
    const attribution = await taskAttribution(rt.db, rt.config, task);
    const sent = await stage.call((client) =>
      client.createWorkspace({ workspaceId: workspace.id, taskId, repository: task.repository, branch: task.branch, ...(task.baseBranch ? { baseBranch: task.baseBranch } : {}), callbackToken, secrets, attribution, forgeHosts: forgeHosts(rt.config.GITHUB_URL), egress: workspaceEgress(task, rt.config) }),
    );
    if (sent === LOST) return LOST;
  }
  await transitionTask(rt.db, { taskId, to: "delegated", actor: "system", from: ["queued"], reason: `workspace ${workspace.id} requested` });
  await finishStep(rt.db, taskId, "workspace_creation", "succeeded", `workspace ${workspace.id} on ${nodeId}`);
  return { workspaceId: workspace.id };
}

export type WorkspaceState = "ready" | { failed: string } | typeof PENDING | typeof ENDED | typeof LOST;

export async function workspaceReadiness(rt: Runtime, taskId: string, workspaceId: string, attempt: number): Promise<WorkspaceState> {
  const stage = await openStage(rt, taskId, { workspace: workspaceId });
  if (stage === ENDED) return ENDED;
  await startStep(rt.db, taskId, "workspace_ready", { restart: attempt > 0 });
  if (stage.lost) return LOST;
  const { workspace } = stage;
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
  const stage = await openStage(rt, taskId, { workspace: workspaceId });
  if (stage === ENDED) return ENDED;
  if (stage.lost) return LOST;
  const { task } = stage;
  await startStep(rt.db, taskId, "agent_session", { restart: attempt > 0 });
  const session = await ensureSessionRow(rt.db, { workspaceId, taskId, agent: task.agent });
  if (session.status === "starting") {
    const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId }, rt.config.CALLBACK_TOKEN_TTL);
    const agent = task.agent as AgentKind;
    const secrets = await sessionSecrets(keySource(rt), task.userId, agent, task.repository);
    const started = await stage.call((client) => client.startAgentSession(workspaceId, session.id, { agent, prompt: task.prompt, callbackToken, secrets, forgeHosts: forgeHosts(rt.config.GITHUB_URL), ...(task.model ? { model: task.model } : {}), ...(task.checks ? { checks: task.checks } : {}) }));
    if (started === LOST) return LOST;
    await markSessionStarted(rt.db, session.id);
  } else if (session.status === "running") {
    const state = await stage.call((client) => client.sessionState(workspaceId, session.id));
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
  const stage = await openStage(rt, taskId, { session: sessionId });
  if (stage === ENDED) return ENDED;
  const { session } = stage;
  // A turn that ended counts even when its node went after it.
  if (session && ENDED_SESSION_STATUSES.includes(session.status)) {
    // The run is alive and has seen its agent end: no stall (lib/runs/stalled.ts).
    await recordRunSawAgentEnd(rt.db, taskId, session.endedAt);
    return session.status === "stopped" ? "completed" : "failed";
  }
  return stage.lost ? LOST : PENDING;
}
