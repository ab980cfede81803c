/**
 * The workspace lifecycle on the control plane side. Statuses: pending, creating, running,
 * recovery, stopping, stopped, error. A task has one workspace per node it was placed on (a lost
 * node's workspace stays `error`); `tasks.workspace_id` names the current one.
 */
import { and, count, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, workspaces } from "@/db/schema";
import type { ProvisioningFailedCallback, WorkspaceReadyCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { firstDelivery, type CallbackOutcome } from "../callbacks/receipts";

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
    if (current && current.nodeId === input.nodeId && !["stopped", "error"].includes(current.status)) return current;
    const [{ n } = { n: 0 }] = await tx.select({ n: count() }).from(workspaces).where(eq(workspaces.taskId, input.taskId));
    const id = n === 0 ? `w_${input.taskId}` : `w_${input.taskId}_${n}`;
    await tx.insert(workspaces).values({ id, taskId: input.taskId, nodeId: input.nodeId, branch: input.branch, status: "creating" }).onConflictDoNothing();
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
          .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, ["pending", "creating", "recovery"])))
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

/** `/provisioning-failed`: the workspace errors with the stage and message; the caller fails its task. */
export async function markProvisioningFailed(db: Executor, workspaceId: string, body: ProvisioningFailedCallback) {
  const message = `workspace provisioning failed (${body.stage}): ${body.error}`;
  if (!(await firstDelivery(db, body.messageId, "provisioning-failed"))) {
    const row = await getWorkspace(db, workspaceId);
    return { outcome: "duplicate" as const, taskId: row?.taskId, nodeId: row?.nodeId, message };
  }
  const [row] = await db
    .update(workspaces)
    .set({ status: "error", errorMessage: message, updatedAt: sql`now()` })
    .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, ["pending", "creating", "recovery"])))
    .returning({ taskId: workspaces.taskId, nodeId: workspaces.nodeId });
  if (!row) return { outcome: "ignored" as const, message };
  await publishTaskChange(db, row.taskId, "workspace");
  return { outcome: "applied" as const, taskId: row.taskId, nodeId: row.nodeId, message };
}

/** After the task: the workspace is stopped (an errored one keeps its error). */
export async function markWorkspaceStopped(db: Executor, workspaceId: string) {
  const [row] = await db
    .update(workspaces)
    .set({ status: "stopped", updatedAt: sql`now()` })
    .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, ["pending", "creating", "running", "recovery", "stopping"])))
    .returning({ taskId: workspaces.taskId });
  if (row) await publishTaskChange(db, row.taskId, "workspace");
}
