/** Agent sessions on the control plane side. Statuses: running, suspended, stopped, error. */
import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, tasks } from "@/db/schema";
import type { AgentCompletedCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { firstDelivery } from "../callbacks/receipts";
import { failTask } from "../tasks/fail-task";
import type { CallbackOutcome } from "../workspaces/lifecycle";

export const sessionIdFor = (workspaceId: string) => `s_${workspaceId.replace(/^w_/, "")}`;

export async function getSession(executor: Executor, sessionId: string) {
  const [row] = await executor.select().from(agentSessions).where(eq(agentSessions.id, sessionId));
  return row;
}

export async function ensureSessionRow(executor: Executor, input: { workspaceId: string; taskId: string; agent: string }) {
  const id = sessionIdFor(input.workspaceId);
  await executor
    .insert(agentSessions)
    .values({ id, workspaceId: input.workspaceId, taskId: input.taskId, agent: input.agent, status: "running", startedAt: sql`now()` })
    .onConflictDoNothing();
  return (await getSession(executor, id))!;
}

/**
 * The completion callback. Success records the result and lets the run finish the task; failure
 * fails the task at once. A repeat is a no-op.
 */
export async function recordAgentCompletion(db: Executor, sessionId: string, body: AgentCompletedCallback) {
  return db.transaction(async (tx): Promise<{ outcome: CallbackOutcome; taskId?: string; message?: string }> => {
    if (!(await firstDelivery(tx, body.messageId, "agent-completed"))) return { outcome: "duplicate" };
    const succeeded = body.outcome === "succeeded";
    const message = succeeded ? undefined : `agent failed${body.exitCode === null ? "" : ` (exit ${body.exitCode})`}: ${body.error ?? "no error message"}`;
    const [row] = await tx
      .update(agentSessions)
      .set({
        status: succeeded ? "stopped" : "error",
        exitCode: body.exitCode,
        commitSha: body.commit,
        errorMessage: message ?? body.error ?? null,
        endedAt: sql`now()`,
      })
      .where(and(eq(agentSessions.id, sessionId), eq(agentSessions.status, "running")))
      .returning({ taskId: agentSessions.taskId });
    if (!row) return { outcome: "ignored" };
    await tx
      .update(tasks)
      .set({ commitSha: body.commit, pushed: body.pushed, updatedAt: sql`now()` })
      .where(eq(tasks.id, row.taskId));
    await publishTaskChange(tx, row.taskId, "result");
    if (message) await failTask(tx, row.taskId, message, "workspace_callback", { step: "running", workspaceId: body.workspaceId });
    return { outcome: "applied", taskId: row.taskId, message };
  });
}
