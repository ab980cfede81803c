/**
 * Agent sessions on the control plane side. Statuses: starting (the row exists; the node has not
 * accepted the start yet), running, suspended, stopped, error.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, tasks } from "@/db/schema";
import type { AgentCompletedCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { firstDelivery, type CallbackOutcome } from "../callbacks/receipts";
import { recordTurn } from "./turns";

export const sessionIdFor = (workspaceId: string) => `s_${workspaceId.replace(/^w_/, "")}`;

/** Sessions whose agent may still be working. */
export const LIVE_SESSION_STATUSES = ["starting", "running"] as const;

export async function getSession(executor: Executor, sessionId: string) {
  const [row] = await executor.select().from(agentSessions).where(eq(agentSessions.id, sessionId));
  return row;
}

/** The workspace's session row, created `starting` once; a re-run of the step gets the same row. */
export async function ensureSessionRow(executor: Executor, input: { workspaceId: string; taskId: string; agent: string }) {
  const id = sessionIdFor(input.workspaceId);
  await executor
    .insert(agentSessions)
    .values({ id, workspaceId: input.workspaceId, taskId: input.taskId, agent: input.agent, status: "starting" })
    .onConflictDoNothing();
  return (await getSession(executor, id))!;
}

/** The node accepted the start: now the session is running. */
export async function markSessionStarted(executor: Executor, sessionId: string) {
  await executor
    .update(agentSessions)
    .set({ status: "running", startedAt: sql`coalesce(${agentSessions.startedAt}, now())` })
    .where(and(eq(agentSessions.id, sessionId), eq(agentSessions.status, "starting")));
}

/** Cleanup stopped the agents of the task's workspaces. */
export async function markSessionsStopped(executor: Executor, taskId: string, reason: string) {
  await executor
    .update(agentSessions)
    .set({ status: "stopped", errorMessage: reason, endedAt: sql`now()` })
    .where(and(eq(agentSessions.taskId, taskId), inArray(agentSessions.status, [...LIVE_SESSION_STATUSES])));
}

/**
 * The completion callback (or the same body read back from the node): records the result on the
 * session and the task. A failure comes back as `message` for the caller to fail the task with in
 * the same transaction. A repeat is a no-op.
 */
export async function recordAgentCompletion(tx: Executor, sessionId: string, body: AgentCompletedCallback) {
  const first = await firstDelivery(tx, body.messageId, "agent-completed");
  const succeeded = body.outcome === "succeeded";
  const message = succeeded ? undefined : `agent failed${body.exitCode === null ? "" : ` (exit ${body.exitCode})`}: ${body.error ?? "no error message"}`;
  if (!first) return { outcome: "duplicate" as CallbackOutcome, taskId: (await getSession(tx, sessionId))?.taskId, message };
  const [row] = await tx
    .update(agentSessions)
    .set({
      status: succeeded ? "stopped" : "error",
      exitCode: body.exitCode,
      commitSha: body.commit,
      errorMessage: message ?? body.error ?? null,
      endedAt: sql`now()`,
    })
    .where(and(eq(agentSessions.id, sessionId), inArray(agentSessions.status, [...LIVE_SESSION_STATUSES])))
    .returning({ taskId: agentSessions.taskId, turn: agentSessions.turn });
  if (!row) return { outcome: "ignored" as CallbackOutcome, message };
  await recordTurn(tx, { taskId: row.taskId, sessionId, turn: body.turn ?? row.turn, body });
  await tx.update(tasks).set({ commitSha: body.commit, pushed: body.pushed, pushError: body.pushFailed ? (body.error ?? "push failed") : null, updatedAt: sql`now()` }).where(eq(tasks.id, row.taskId));
  await publishTaskChange(tx, row.taskId, "result");
  return { outcome: "applied" as CallbackOutcome, taskId: row.taskId, message };
}
