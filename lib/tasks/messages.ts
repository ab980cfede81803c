/**
 * Follow-ups: what the person says to a task's agent after its prompt. A message is stored first
 * (in order; a resend with the same client id is the same message), then the task's run is woken;
 * the run delivers every queued message when the agent's turn has ended (lib/pipeline).
 */
import { randomUUID } from "node:crypto";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Executor } from "@/db/client";
import { taskMessages, tasks } from "@/db/schema";
import type { TaskMessageView, TaskStatus } from "../contracts/api";
import { publishTaskChange } from "../live/publish";
import { isTerminal } from "./state-machine";
import { taskFinishRequested, taskFollowup } from "../contracts/events";
import { wakeRuns, type WakeDeps } from "./wake-run";
import type { Config } from "../config";
import { admitFollowup } from "./user-limits";

type MessageRow = typeof taskMessages.$inferSelect;

export const messageView = (row: MessageRow): TaskMessageView => ({
  id: row.id,
  clientId: row.clientId,
  body: row.body,
  author: row.author,
  status: row.status,
  turn: row.turn,
  createdAt: row.createdAt.toISOString(),
  deliveredAt: row.deliveredAt?.toISOString() ?? null,
});

export type SendMessageResult = { outcome: "queued"; message: TaskMessageView } | { outcome: "not_found" } | { outcome: "ended"; status: TaskStatus };

/** Stores `ownerId`'s follow-up for the task and wakes its run; another person's task is not found. */
export async function sendMessage(deps: WakeDeps & { db: Db; config: Pick<Config, "WAKE_RESEND_AFTER" | "AUTH_MODE" | "MAX_FOLLOWUPS_PER_MINUTE"> }, ownerId: string, taskId: string, input: { body: string; clientId?: string }): Promise<SendMessageResult> {
  const clientId = input.clientId ?? randomUUID();
  const result = await deps.db.transaction(async (tx) => {
    const [task] = await tx.select({ status: tasks.status }).from(tasks).where(and(eq(tasks.id, taskId), eq(tasks.userId, ownerId))).for("update");
    if (!task) return { outcome: "not_found" as const };
    const [existing] = await tx.select().from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.clientId, clientId)));
    if (existing) return { outcome: "queued" as const, message: messageView(existing), fresh: false };
    if (isTerminal(task.status)) return { outcome: "ended" as const, status: task.status };
    // A resend (same client id) was answered above and is not counted again.
    if (deps.config.AUTH_MODE === "team") await admitFollowup(tx, deps.config, ownerId, taskId);
    const [row] = await tx.insert(taskMessages).values({ taskId, clientId, body: input.body }).returning();
    await publishTaskChange(tx, taskId, "message");
    return { outcome: "queued" as const, message: messageView(row!), fresh: true };
  });
  if (result.outcome !== "queued") return result;
  if (result.fresh) await wakeRuns(deps, [taskFollowup.create({ taskId })], "log");
  return { outcome: "queued", message: result.message };
}

/** The task's messages in the order they were sent. */
export async function listMessages(executor: Executor, taskId: string): Promise<TaskMessageView[]> {
  const rows = await executor.select().from(taskMessages).where(eq(taskMessages.taskId, taskId)).orderBy(asc(taskMessages.id));
  return rows.map(messageView);
}

export type FinishResult = { outcome: "finishing" } | { outcome: "not_found" } | { outcome: "ended"; status: TaskStatus };

/**
 * "Finish now": the task completes when its agent's current turn has ended, instead of waiting
 * for a follow-up until SESSION_IDLE_TIMEOUT. Queued messages are still delivered first.
 */
export async function finishTask(deps: WakeDeps & { db: Db }, ownerId: string, taskId: string): Promise<FinishResult> {
  const result = await deps.db.transaction(async (tx) => {
    const [task] = await tx.select({ status: tasks.status }).from(tasks).where(and(eq(tasks.id, taskId), eq(tasks.userId, ownerId))).for("update");
    if (!task) return { outcome: "not_found" as const };
    if (isTerminal(task.status)) return { outcome: "ended" as const, status: task.status };
    await tx.update(tasks).set({ finishRequestedAt: sql`coalesce(${tasks.finishRequestedAt}, now())`, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
    await publishTaskChange(tx, taskId, "status");
    return { outcome: "finishing" as const };
  });
  if (result.outcome === "finishing") await wakeRuns(deps, [taskFinishRequested.create({ taskId })], "log");
  return result;
}

/** Whether the task has a follow-up waiting for the agent's next turn. */
export async function hasQueuedMessages(executor: Executor, taskId: string): Promise<boolean> {
  const [queued] = await executor.select({ id: taskMessages.id }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.status, "queued"))).limit(1);
  return !!queued;
}

/** Marks every queued message of the task as delivered in `turn`, in the order they were sent. */
export async function deliverQueuedMessages(tx: Executor, taskId: string, turn: number) {
  const queued = await tx.select({ id: taskMessages.id }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.status, "queued"))).orderBy(asc(taskMessages.id));
  if (!queued.length) return;
  await tx
    .update(taskMessages)
    .set({ status: "delivered", turn, deliveredAt: sql`now()` })
    .where(inArray(taskMessages.id, queued.map((m) => m.id)));
}

/** The messages delivered in `turn`, in order: that turn's prompt is their bodies together. */
export async function turnMessages(executor: Executor, taskId: string, turn: number): Promise<string[]> {
  const rows = await executor.select({ body: taskMessages.body }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.turn, turn))).orderBy(asc(taskMessages.id));
  return rows.map((m) => m.body);
}
