/**
 * The workspace lifecycle on the control plane side. Statuses: pending, creating, running,
 * recovery, stopping, stopped, error. A task has one workspace per node it was placed on (a lost
 * node's workspace stays `error`); `tasks.workspace_id` names the current one. Every change of a
 * workspace's status is made here, each from the statuses the transition table lets move.
 */
import { and, count, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, workspaces } from "@/db/schema";
import { ENDED_WORKSPACE_STATUSES, PROVISIONING_WORKSPACE_STATUSES, WORKSPACE_STATUSES, type WorkspaceStatus } from "../contracts/statuses";
import type { ProvisioningFailedCallback, WorkspaceReadyCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { firstDelivery, type CallbackOutcome } from "../callback-receipts";

/** A new workspace row starts `creating`. */
export const INITIAL_WORKSPACE_STATUS = "creating" satisfies WorkspaceStatus;

/**
 * What each status may become. An ended workspace (stopped, error) never moves; pending and
 * recovery are kept for rows written by earlier versions, which moved them as creating.
 */
export const WORKSPACE_TRANSITIONS: Readonly<Record<WorkspaceStatus, readonly WorkspaceStatus[]>> = {
  pending: ["running", "stopped", "error"],
  creating: ["running", "stopped", "error"],
  running: ["stopped", "error"],
  recovery: ["running", "stopped", "error"],
  stopping: ["stopped", "error"],
  stopped: [],
  error: [],
};

export function canWorkspaceTransition(from: WorkspaceStatus, to: WorkspaceStatus): boolean {
  return WORKSPACE_TRANSITIONS[from].includes(to);
}

/** The statuses (of `among`) the table lets become `to`: what an update to `to` moves from. */
export function workspaceStatusesBefore(to: WorkspaceStatus, among: readonly WorkspaceStatus[] = WORKSPACE_STATUSES): WorkspaceStatus[] {
  return among.filter((from) => canWorkspaceTransition(from, to));
}

export async function getWorkspace(executor: Executor, workspaceId: string) {
  const [row] = await executor.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  return row;
}

/**
 * The task's workspace on its current node: the one it has when that is still usable (a re-run of
 * the step, a re-driven run), else a new row. Runs under the task's row lock, so two runs of the
 * step at once agree on one row.
 */
export async function ensureWorkspaceRow(executor: Executor, input: { taskId: string; nodeId: string; branch: string }) {
  return executor.transaction(async (tx) => {
    const [task] = await tx.select({ workspaceId: tasks.workspaceId }).from(tasks).where(eq(tasks.id, input.taskId)).for("update");
    const current = task?.workspaceId ? await getWorkspace(tx, task.workspaceId) : undefined;
    if (current && current.nodeId === input.nodeId && !ENDED_WORKSPACE_STATUSES.includes(current.status)) return current;
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(workspaces).where(eq(workspaces.taskId, input.taskId));
    const id = n === 0 ? `w_${input.taskId}` : `w_${input.taskId}_${n}`;
    await tx.insert(workspaces).values({ id, taskId: input.taskId, nodeId: input.nodeId, branch: input.branch, status: INITIAL_WORKSPACE_STATUS }).onConflictDoNothing();
    await tx.update(tasks).set({ workspaceId: id, nodeId: input.nodeId, updatedAt: sql`now()` }).where(eq(tasks.id, input.taskId));
    await publishTaskChange(tx, input.taskId, "workspace");
    return (await getWorkspace(tx, id))!;
  });
}

/** `/ready`: creating → running. A repeat, or a workspace already failed or stopped, is a no-op. */
export async function markWorkspaceReady(db: Executor, workspaceId: string, body: WorkspaceReadyCallback) {
  return db.transaction(async (tx): Promise<{ outcome: CallbackOutcome; taskId?: string }> => {
    const first = await firstDelivery(tx, body.messageId, "workspace-ready");
    const [row] = first
      ? await tx
          .update(workspaces)
          .set({ status: "running", baseCommit: body.baseCommit, readyAt: sql`now()`, updatedAt: sql`now()` })
          .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, workspaceStatusesBefore("running"))))
          .returning({ taskId: workspaces.taskId })
      : await tx.select({ taskId: workspaces.taskId }).from(workspaces).where(eq(workspaces.id, workspaceId));
    if (!first) return { outcome: "duplicate", taskId: row?.taskId };
    if (!row) return { outcome: "ignored" };
    // A task that named no base branch learns the repository's default one here.
    if (body.baseBranch) await tx.update(tasks).set({ baseBranch: body.baseBranch }).where(and(eq(tasks.id, row.taskId), isNull(tasks.baseBranch)));
    await publishTaskChange(tx, row.taskId, "workspace");
    return { outcome: "applied", taskId: row.taskId };
  });
}

/** `/provisioning-failed`: the workspace being set up errors with the stage and message; the caller fails its task. */
export async function markProvisioningFailed(db: Executor, workspaceId: string, body: ProvisioningFailedCallback) {
  const message = `workspace provisioning failed (${body.stage}): ${body.error}`;
  if (!(await firstDelivery(db, body.messageId, "provisioning-failed"))) {
    const row = await getWorkspace(db, workspaceId);
    return { outcome: "duplicate" as const, taskId: row?.taskId, nodeId: row?.nodeId, message };
  }
  const [row] = await db
    .update(workspaces)
    .set({ status: "error", errorMessage: message, endedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, workspaceStatusesBefore("error", PROVISIONING_WORKSPACE_STATUSES))))
    .returning({ taskId: workspaces.taskId, nodeId: workspaces.nodeId });
  if (!row) return { outcome: "ignored" as const, message };
  await publishTaskChange(db, row.taskId, "workspace");
  return { outcome: "applied" as const, taskId: row.taskId, nodeId: row.nodeId, message };
}

/** After the task: the workspace is stopped (an errored one keeps its error). */
export async function markWorkspaceStopped(db: Executor, workspaceId: string) {
  const [row] = await db
    .update(workspaces)
    .set({ status: "stopped", endedAt: sql`coalesce(${workspaces.endedAt}, now())`, updatedAt: sql`now()` })
    .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, workspaceStatusesBefore("stopped"))))
    .returning({ taskId: workspaces.taskId });
  if (row) await publishTaskChange(db, row.taskId, "workspace");
}

/** The task's node was lost: its workspaces there that have not ended error with why. */
export async function markWorkspacesLost(executor: Executor, taskId: string, nodeId: string, why: string) {
  await executor
    .update(workspaces)
    .set({ status: "error", errorMessage: why, endedAt: sql`now()`, updatedAt: sql`now()` })
    .where(and(eq(workspaces.taskId, taskId), eq(workspaces.nodeId, nodeId), inArray(workspaces.status, workspaceStatusesBefore("error"))));
}
