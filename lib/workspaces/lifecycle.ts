/**
 * The workspace lifecycle on the control plane side. Statuses: pending, creating, running,
 * recovery, stopping, stopped, error. Callback handlers write here first, then emit their event.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, workspaces } from "@/db/schema";
import type { ProvisioningFailedCallback, WorkspaceReadyCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { firstDelivery } from "../callbacks/receipts";
import { failTask } from "../tasks/fail-task";

export const workspaceIdFor = (taskId: string) => `w_${taskId}`;

export async function getWorkspace(executor: Executor, workspaceId: string) {
  const [row] = await executor.select().from(workspaces).where(eq(workspaces.id, workspaceId));
  return row;
}

/** Creates the task's workspace row once; a re-run of the step gets the same row back. */
export async function ensureWorkspaceRow(executor: Executor, input: { taskId: string; nodeId: string; branch: string }) {
  const id = workspaceIdFor(input.taskId);
  return executor.transaction(async (tx) => {
    await tx
      .insert(workspaces)
      .values({ id, taskId: input.taskId, nodeId: input.nodeId, branch: input.branch, status: "creating" })
      .onConflictDoNothing();
    await tx
      .update(tasks)
      .set({ workspaceId: id, nodeId: input.nodeId, updatedAt: sql`now()` })
      .where(eq(tasks.id, input.taskId));
    await publishTaskChange(tx, input.taskId, "workspace");
    return (await getWorkspace(tx, id))!;
  });
}

export type CallbackOutcome = "applied" | "duplicate" | "ignored";

/** `/ready`: creating → running. A repeat, or a workspace already failed or stopped, is a no-op. */
export async function markWorkspaceReady(db: Executor, workspaceId: string, body: WorkspaceReadyCallback) {
  return db.transaction(async (tx): Promise<{ outcome: CallbackOutcome; taskId?: string }> => {
    if (!(await firstDelivery(tx, body.messageId, "workspace-ready"))) return { outcome: "duplicate" };
    const [row] = await tx
      .update(workspaces)
      .set({ status: "running", baseCommit: body.baseCommit, readyAt: sql`now()`, updatedAt: sql`now()` })
      .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, ["pending", "creating", "recovery"])))
      .returning({ taskId: workspaces.taskId });
    if (!row) return { outcome: "ignored" };
    await publishTaskChange(tx, row.taskId, "workspace");
    return { outcome: "applied", taskId: row.taskId };
  });
}

/** `/provisioning-failed`: the workspace errors and its task fails at once with the message. */
export async function markProvisioningFailed(db: Executor, workspaceId: string, body: ProvisioningFailedCallback) {
  return db.transaction(async (tx): Promise<{ outcome: CallbackOutcome; taskId?: string; message?: string }> => {
    if (!(await firstDelivery(tx, body.messageId, "provisioning-failed"))) return { outcome: "duplicate" };
    const message = `workspace provisioning failed (${body.stage}): ${body.error}`;
    const [row] = await tx
      .update(workspaces)
      .set({ status: "error", errorMessage: message, updatedAt: sql`now()` })
      .where(and(eq(workspaces.id, workspaceId), inArray(workspaces.status, ["pending", "creating", "recovery"])))
      .returning({ taskId: workspaces.taskId, nodeId: workspaces.nodeId });
    if (!row) return { outcome: "ignored" };
    await failTask(tx, row.taskId, message, "workspace_callback", { step: "workspace_ready", workspaceId, nodeId: row.nodeId });
    await publishTaskChange(tx, row.taskId, "workspace");
    return { outcome: "applied", taskId: row.taskId, message };
  });
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
