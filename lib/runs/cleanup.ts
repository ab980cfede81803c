/**
 * Cleaning up after a run's task ended: stop the workspace on its node, free the slot (the node
 * goes warm, or is destroyed), wake the queue. Cleanup holds a lease, so it never runs twice at
 * once; one that fails is recorded, and `retryCleanups` (a periodic job, jobs.ts) tries it again.
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
import { finishStep, startStep } from "../tasks/timeline";
import { markWorkspaceStopped } from "../workspaces/lifecycle";
import { purgeWorkspace } from "../retention/sweep";
import { holdWorkspace } from "../workspaces/held";

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

/** Ended tasks whose cleanup did not finish (it failed, or its run was lost): clean up again. */
export async function retryCleanups(rt: Runtime, settleMs = 30_000) {
  const pending = await rt.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(
      and(
        inArray(tasks.status, TERMINAL_TASK_STATUSES),
        isNull(tasks.cleanedUpAt),
        or(isNull(tasks.cleanupLeaseUntil), lt(tasks.cleanupLeaseUntil, sql`now()`)),
        lt(tasks.updatedAt, new Date(Date.now() - settleMs)),
      ),
    )
    .limit(50);
  const results = [];
  for (const task of pending) results.push({ taskId: task.id, ...(await cleanupTask(rt, task.id)) });
  return results;
}
