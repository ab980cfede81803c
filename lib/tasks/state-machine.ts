/**
 * The task status state machine: its transitions as data, and the one function that moves a task.
 * Every transition is a conditional UPDATE (`WHERE status = <expected>`) plus a status-event row in
 * the same transaction, so two writers racing on one task cannot both win.
 */
import { and, eq, inArray, isNull, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, taskStatusEvents } from "@/db/schema";
import { RUN_TASK_STATUSES, TERMINAL_TASK_STATUSES, type TaskStatus } from "../contracts/statuses";
import { publishTaskChange } from "../live/publish";

export const TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  draft: ["ready", "cancelled"],
  ready: ["queued", "delegated", "cancelled"],
  queued: ["delegated", "failed", "cancelled"],
  delegated: ["in_progress", "failed", "cancelled"],
  in_progress: ["completed", "failed", "cancelled"],
  completed: [],
  failed: ["ready", "cancelled"],
  cancelled: ["ready"],
};

export const isTerminal = (status: TaskStatus) => TERMINAL_TASK_STATUSES.includes(status);

/**
 * The named states of a task's run, as predicates over its row: what the safety nets and the queue
 * select by, so each picks exactly the state it means (lib/runs/selection.test.ts holds each
 * net to every other state). The status says where the task is in its life; the execution step
 * says what its run waits for.
 */
export const RUN_STATES = {
  /** Its run works on it, in any step. */
  active: inArray(tasks.status, RUN_TASK_STATUSES),
  /** Waiting in the queue for a free slot: placed on no node yet. */
  queued: and(eq(tasks.status, "queued"), isNull(tasks.nodeId), eq(tasks.executionStep, "node_selection")),
  /**
   * An agent turn is under way (or has just ended and the run has not moved on yet). Not a task
   * awaiting its person's follow-up (step `awaiting_followup`): its run saw the turn end.
   */
  agentTurn: and(eq(tasks.status, "in_progress"), eq(tasks.executionStep, "running")),
} as const;

/** Same status again is allowed (a no-op); otherwise only the listed moves. */
export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || TRANSITIONS[from].includes(to);
}

export type Actor = "user" | "system" | "workspace_callback";

export type TransitionRequest = {
  taskId: string;
  to: TaskStatus;
  actor: Actor;
  reason?: string;
  /** Move only from one of these statuses (defaults to every status allowed to reach `to`). */
  from?: readonly TaskStatus[];
  /** Other task columns written in the same UPDATE. */
  set?: Partial<Pick<typeof tasks.$inferInsert, "errorMessage" | "commitSha" | "pushed" | "nodeId" | "workspaceId">>;
};

export type TransitionResult =
  | { outcome: "moved"; from: TaskStatus; to: TaskStatus }
  | { outcome: "unchanged"; status: TaskStatus }
  | { outcome: "refused"; status: TaskStatus }
  | { outcome: "not_found" };

/** Columns a status change implies: `ready` clears the previous run; terminal statuses stamp the end. */
function impliedColumns(to: TaskStatus) {
  if (to === "ready") {
    return {
      executionStep: null,
      nodeId: null,
      workspaceId: null,
      commitSha: null,
      pushed: false,
      errorMessage: null,
      startedAt: null,
      completedAt: null,
    };
  }
  if (to === "in_progress") return { startedAt: sql`coalesce(${tasks.startedAt}, now())` };
  if (isTerminal(to)) return { completedAt: sql`now()` };
  return {};
}

/**
 * Moves a task to `to` if the machine allows it from its current status. Runs in its own
 * transaction when given the database, or inside the caller's.
 */
export async function transitionTask(executor: Executor, request: TransitionRequest): Promise<TransitionResult> {
  return executor.transaction(async (tx) => {
    const [current] = await tx
      .select({ status: tasks.status })
      .from(tasks)
      .where(eq(tasks.id, request.taskId))
      .for("update");
    if (!current) return { outcome: "not_found" };
    const from = current.status;
    if (from === request.to) return { outcome: "unchanged", status: from };
    if (!canTransition(from, request.to) || (request.from && !request.from.includes(from))) {
      return { outcome: "refused", status: from };
    }
    const updated = await tx
      .update(tasks)
      .set({ ...request.set, ...impliedColumns(request.to), status: request.to, updatedAt: sql`now()` })
      .where(and(eq(tasks.id, request.taskId), eq(tasks.status, from)))
      .returning({ id: tasks.id });
    if (updated.length === 0) return { outcome: "refused", status: from };
    await tx.insert(taskStatusEvents).values({
      taskId: request.taskId,
      fromStatus: from,
      toStatus: request.to,
      actor: request.actor,
      reason: request.reason ?? null,
    });
    await publishTaskChange(tx, request.taskId, "status");
    return { outcome: "moved", from, to: request.to };
  });
}
