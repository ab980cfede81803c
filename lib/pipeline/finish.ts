/**
 * How a run ends: the task's outcome first (so a finished task is `completed` whatever cleanup
 * does), then cleanup (lib/runs/cleanup.ts), which never turns a finished task into `failed`.
 */
import type { Runtime } from "../runtime";
import { getNode } from "../nodes/lifecycle";
import { failTask } from "../tasks/fail-task";
import { transitionTask } from "../tasks/state-machine";
import { finishStep } from "../tasks/timeline";
import { getTask } from "../tasks/queries";
import { ENDED, openStage } from "./stage";
import { taskChecks } from "../checks/rounds";

/** What the agent's last turn left, for the timeline: its commit, or "no changes". */
const turnResult = (task: { commitSha: string | null }) => (task.commitSha ? `commit ${task.commitSha.slice(0, 12)}` : "no changes");

/** The turn's step ends: its commit, and its checks' outcome when they ran (a step that ended already keeps its first end). */
export async function endTurnStep(rt: Runtime, task: { id: string; commitSha: string | null; finishRequestedAt: Date | null }, sessionId: string) {
  const checks = await taskChecks(rt.db, task.id, sessionId, rt.config.MAX_CHECK_ROUNDS, task.finishRequestedAt !== null);
  await finishStep(rt.db, task.id, "running", "succeeded", [turnResult(task), checks?.summary].filter(Boolean).join("; "));
}

/** The agent finished well: the task is completed (its last turn's step ended in the pull-request stage, endTurnStep). */
export async function completeTaskStage(rt: Runtime, taskId: string) {
  const stage = await openStage(rt, taskId);
  // A task cancelled or failed meanwhile keeps that outcome.
  if (stage === ENDED) return;
  await transitionTask(rt.db, { taskId, to: "completed", actor: "system", from: ["in_progress"], reason: "agent finished" });
}

/** The run gives up on the task (a timeout, the node lost under a working agent, placement exhausted). */
export async function failTaskStage(rt: Runtime, taskId: string, message: string, step: string) {
  const task = await getTask(rt.db, taskId);
  await failTask(rt.db, taskId, message, "system", { step });
  return { failed: message, nodeId: task?.nodeId ?? null };
}

/** What a task lost when its node died under its working agent, said plainly. */
export async function lostWhileWorking(rt: Runtime, taskId: string): Promise<string> {
  const task = await getTask(rt.db, taskId);
  const node = task?.nodeId ? await getNode(rt.db, task.nodeId) : undefined;
  const cause = node?.errorMessage ?? `node ${task?.nodeId ?? "?"} was lost`;
  const kept = task?.pushed && task.commitSha ? `; commit ${task.commitSha.slice(0, 12)} was pushed before` : "";
  return `${cause} while its agent was working: the agent's work in workspace ${task?.workspaceId ?? "?"} that was not pushed is gone${kept}`;
}
