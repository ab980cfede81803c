/**
 * How a run ends: the task's outcome first (so a finished task is `completed` whatever cleanup
 * does), then cleanup: stop the workspace on its node, free the slot (the node goes warm, or is
 * destroyed), wake the queue. Cleanup holds a lease, so it never runs twice at once; a cleanup that
 * fails is recorded and retried by the safety net, and never turns a finished task into `failed`.
 */
import { and, eq, inArray, isNull, lt, ne, or, sql } from "drizzle-orm";
import { tasks, workspaces } from "@/db/schema";
import { TERMINAL_TASK_STATUSES } from "../contracts/statuses";
import type { Runtime } from "../runtime";
import { recordError } from "../errors";
import { publishTaskChange } from "../live/publish";
import { getNode } from "../nodes/lifecycle";
import { settleNode, wakeQueued } from "../nodes/pool";
import { clientForNode, VmAgentRequestError } from "../nodes/vm-agent-client";
import { markSessionsStopped } from "../sessions/lifecycle";
import { failTask } from "../tasks/fail-task";
import { transitionTask } from "../tasks/state-machine";
import { finishStep, startStep } from "../tasks/timeline";
import { getTask } from "../tasks/queries";
import { markWorkspaceStopped } from "../workspaces/lifecycle";
import { purgeWorkspace } from "../retention/sweep";
import { holdWorkspace } from "../workspaces/held";

/** The agent finished well: the task is completed. */
export async function completeTaskStage(rt: Runtime, taskId: string) {
  const task = await getTask(rt.db, taskId);
  await finishStep(rt.db, taskId, "running", "succeeded", task?.commitSha ? `commit ${task.commitSha.slice(0, 12)}` : "no changes");
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

async function takeCleanupLease(rt: Runtime, taskId: string) {
  const rows = await rt.db
    .update(tasks)
    .set({ cleanupLeaseUntil: sql`now() + ${`${rt.config.CLEANUP_LEASE} milliseconds`}::interval` })
    .where(
      and(
        eq(tasks.id, taskId),
        isNull(tasks.cleanedUpAt),
        inArray(tasks.status, TERMINAL_TASK_STATUSES),
        or(isNull(tasks.cleanupLeaseUntil), lt(tasks.cleanupLeaseUntil, sql`now()`)),
      ),
    )
    .returning({ id: tasks.id, userId: tasks.userId, nodeId: tasks.nodeId });
  return rows[0];
}

/** Stops the task's workspaces that may still run on a node that is still there. */
async function stopWorkspaces(rt: Runtime, taskId: string) {
  const held = await rt.db.select().from(workspaces).where(and(eq(workspaces.taskId, taskId), ne(workspaces.status, "stopped")));
  for (const workspace of held) {
    const node = await getNode(rt.db, workspace.nodeId);
    if (node?.endpoint && node.status === "running" && workspace.status !== "error") {
      try {
        await clientForNode(rt, node).stopWorkspace(workspace.id);
      } catch (error) {
        // A node that no longer knows the workspace has nothing left to stop.
        if (!(error instanceof VmAgentRequestError && error.status === 404)) throw error;
      }
    }
    await markWorkspaceStopped(rt.db, workspace.id);
  }
  // Pushed work needs no inspection copy: its worktree goes now (the node refuses if anything is not pushed).
  const [task] = await rt.db.select({ status: tasks.status, pushed: tasks.pushed, pushError: tasks.pushError, commitSha: tasks.commitSha, workspaceId: tasks.workspaceId }).from(tasks).where(eq(tasks.id, taskId));
  const current = held.find((w) => w.id === task?.workspaceId);
  if (task?.status === "completed" && task.pushed && current) await purgeWorkspace(rt, current, false);
  // Work whose push was refused stays on its node until the person pushes it again or discards it.
  else if (task?.pushError && task.commitSha && current) await holdWorkspace(rt.db, current.id);
  return held.length;
}

export type CleanupResult = { outcome: "cleaned"; detail: string } | { outcome: "skipped"; detail: string } | { outcome: "failed"; detail: string };

/** Cleans up after an ended task, once. Never throws: a failure is recorded for the safety net. */
export async function cleanupTask(rt: Runtime, taskId: string): Promise<CleanupResult> {
  const lease = await takeCleanupLease(rt, taskId);
  if (!lease) return { outcome: "skipped", detail: "already cleaned up, or being cleaned up" };
  await startStep(rt.db, taskId, "cleanup", { afterEnd: true, restart: true });
  try {
    const stopped = await stopWorkspaces(rt, taskId);
    await markSessionsStopped(rt.db, taskId, "stopped by cleanup");
    await rt.db.update(tasks).set({ cleanedUpAt: sql`now()`, cleanupLeaseUntil: null, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
    const settled = lease.nodeId ? await settleNode(rt, lease.nodeId, rt.config.NODE_WARM_TIMEOUT) : undefined;
    await wakeQueued(rt, lease.userId);
    const detail = [stopped ? `${stopped === 1 ? "workspace" : `${stopped} workspaces`} stopped` : "no workspace", settled && `node ${settled}`].filter(Boolean).join("; ");
    await finishStep(rt.db, taskId, "cleanup", "succeeded", detail);
    await publishTaskChange(rt.db, taskId, "node");
    return { outcome: "cleaned", detail };
  } catch (error) {
    const detail = `cleanup failed, will be retried: ${(error as Error).message}`;
    await recordError(rt.db, { taskId, nodeId: lease.nodeId, kind: "cleanup", step: "cleanup", message: detail });
    await finishStep(rt.db, taskId, "cleanup", "failed", detail);
    return { outcome: "failed", detail };
  }
}
