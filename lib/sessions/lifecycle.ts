/**
 * Agent sessions on the control plane side. Statuses: starting (the row exists; the node has not
 * accepted the start yet), running, suspended, stopped, error. Every change of a session's status
 * is made here, each from the statuses the transition table lets move.
 */
import { and, eq, inArray, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, tasks } from "@/db/schema";
import { LIVE_SESSION_STATUSES, SESSION_STATUSES, type SessionStatus } from "../contracts/statuses";
import type { AgentCompletedCallback } from "../contracts/vm-agent";
import { publishTaskChange } from "../live/publish";
import { firstDelivery, type CallbackOutcome } from "../callback-receipts";
import { recordTurn } from "./turns";
import type { PriceTable } from "../usage/pricing";

export const sessionIdFor = (workspaceId: string) => `s_${workspaceId.replace(/^w_/, "")}`;

/** A new session row starts `starting`. */
export const INITIAL_SESSION_STATUS = "starting" satisfies SessionStatus;

/**
 * What each status may become. A turn ends `stopped` (or `error`) and the next turn runs the same
 * session again; the next turn's update moves any session not running (lib/pipeline/followup.ts
 * reads it under its lock first), hence `suspended` and `error` may become `running`.
 */
export const SESSION_TRANSITIONS: Readonly<Record<SessionStatus, readonly SessionStatus[]>> = {
  starting: ["running", "stopped", "error"],
  running: ["stopped", "error"],
  suspended: ["running"],
  stopped: ["running"],
  error: ["running"],
};

export function canSessionTransition(from: SessionStatus, to: SessionStatus): boolean {
  return SESSION_TRANSITIONS[from].includes(to);
}

/** The statuses (of `among`) the table lets become `to`: what an update to `to` moves from. */
export function sessionStatusesBefore(to: SessionStatus, among: readonly SessionStatus[] = SESSION_STATUSES): SessionStatus[] {
  return among.filter((from) => canSessionTransition(from, to));
}

export async function getSession(executor: Executor, sessionId: string) {
  const [row] = await executor.select().from(agentSessions).where(eq(agentSessions.id, sessionId));
  return row;
}

/** The workspace's session row, created `starting` once; a re-run of the step gets the same row. */
export async function ensureSessionRow(executor: Executor, input: { workspaceId: string; taskId: string; agent: string }) {
  const id = sessionIdFor(input.workspaceId);
  await executor
    .insert(agentSessions)
    .values({ id, workspaceId: input.workspaceId, taskId: input.taskId, agent: input.agent, status: INITIAL_SESSION_STATUS })
    .onConflictDoNothing();
  return (await getSession(executor, id))!;
}

/** The node accepted the start: now the session is running. */
export async function markSessionStarted(executor: Executor, sessionId: string) {
  await executor
    .update(agentSessions)
    .set({ status: "running", startedAt: sql`coalesce(${agentSessions.startedAt}, now())` })
    .where(and(eq(agentSessions.id, sessionId), inArray(agentSessions.status, sessionStatusesBefore("running", [INITIAL_SESSION_STATUS]))));
}

/** Cleanup stopped the agents of the task's workspaces. */
export async function markSessionsStopped(executor: Executor, taskId: string, reason: string) {
  await executor
    .update(agentSessions)
    .set({ status: "stopped", errorMessage: reason, endedAt: sql`now()` })
    .where(and(eq(agentSessions.taskId, taskId), inArray(agentSessions.status, sessionStatusesBefore("stopped", LIVE_SESSION_STATUSES))));
}

/**
 * The session's next turn starts: it is running again, on turn `turn`, its last turn's result
 * cleared. The caller holds the row's lock and has seen it not running.
 */
export async function startNextTurn(executor: Executor, sessionId: string, turn: number) {
  await executor
    .update(agentSessions)
    .set({ status: "running", turn, exitCode: null, errorMessage: null, endedAt: null })
    .where(and(eq(agentSessions.id, sessionId), inArray(agentSessions.status, sessionStatusesBefore("running"))));
}

/**
 * Begins the session's next turn inside `tx` (which keeps the row locked until it commits), or,
 * when the session already runs a turn (a retried delivery), answers that one: `begun` says which.
 */
export async function beginNextTurn(tx: Executor, sessionId: string): Promise<{ turn: number; begun: boolean }> {
  const [current] = await tx.select({ status: agentSessions.status, turn: agentSessions.turn }).from(agentSessions).where(eq(agentSessions.id, sessionId)).for("update");
  if (!current) throw new Error(`agent session ${sessionId} does not exist`);
  if (current.status === "running") return { turn: current.turn, begun: false };
  await startNextTurn(tx, sessionId, current.turn + 1);
  return { turn: current.turn + 1, begun: true };
}

/**
 * The completion callback (or the same body read back from the node): records the result on the
 * session and the task. A failure comes back as `message` for the caller to fail the task with in
 * the same transaction. A repeat is a no-op.
 */
export async function recordAgentCompletion(tx: Executor, sessionId: string, body: AgentCompletedCallback, prices: PriceTable) {
  const first = await firstDelivery(tx, body.messageId, "agent-completed");
  const succeeded = body.outcome === "succeeded";
  const message = succeeded ? undefined : `agent failed${body.exitCode === null ? "" : ` (exit ${body.exitCode})`}: ${body.error ?? "no error message"}`;
  if (!first) {
    const session = await getSession(tx, sessionId);
    return { outcome: "duplicate" as CallbackOutcome, taskId: session?.taskId, turn: body.turn ?? session?.turn, message };
  }
  const to = succeeded ? "stopped" : "error";
  const [row] = await tx
    .update(agentSessions)
    .set({
      status: to,
      exitCode: body.exitCode,
      commitSha: body.commit,
      errorMessage: message ?? body.error ?? null,
      endedAt: sql`now()`,
    })
    .where(and(eq(agentSessions.id, sessionId), inArray(agentSessions.status, sessionStatusesBefore(to, LIVE_SESSION_STATUSES))))
    .returning({ taskId: agentSessions.taskId, turn: agentSessions.turn });
  if (!row) return { outcome: "ignored" as CallbackOutcome, message };
  await recordTurn(tx, { taskId: row.taskId, sessionId, turn: body.turn ?? row.turn, body, prices });
  await tx.update(tasks).set({ commitSha: body.commit, pushed: body.pushed, pushError: body.pushFailed ? (body.error ?? "push failed") : null, updatedAt: sql`now()` }).where(eq(tasks.id, row.taskId));
  await publishTaskChange(tx, row.taskId, "result");
  return { outcome: "applied" as CallbackOutcome, taskId: row.taskId, turn: body.turn ?? row.turn, message };
}
