/**
 * Every event the pipeline sends or waits for, declared once with its schema. The domain builds
 * them with `.create(...)` and hands them to the `send` it was given; it never imports the client.
 */
import { eventType } from "inngest";
import { z } from "zod";

/** Starts one run of a task. A re-drive sends it again with the next generation. */
export const taskSubmitted = eventType("task/submitted", {
  schema: z.object({
    taskId: z.string(),
    userId: z.string(),
    /** The task's run generation this run belongs to; a run whose generation is not the task's stops. */
    generation: z.number().int().nonnegative(),
    /** `<taskId>:<generation>`: the run's idempotency key, so a re-drive is not swallowed as a duplicate. */
    runKey: z.string(),
  }),
});

export const runKey = (taskId: string, generation: number) => `${taskId}:${generation}`;

/** Why a task's run was woken; the run reads the database to see what changed. */
export const WakeReason = z.enum([
  "node-ready",
  "node-lost",
  "workspace-ready",
  "workspace-failed",
  "agent-completed",
  "agent-failed",
  "cancelled",
  "capacity",
  /** The person sent a follow-up (a `task_messages` row is queued). */
  "followup",
  /** The person asked to finish instead of waiting for a follow-up. */
  "finish",
]);
export type WakeReason = z.infer<typeof WakeReason>;

/**
 * Something the task's run may be waiting for happened. Every wait of the run waits for this one
 * event, matched on the task id, then checks the database: the database decides, the event only
 * says "look now". Writers always commit before they send it.
 */
export const taskWake = eventType("task/wake", {
  schema: z.object({ taskId: z.string(), reason: WakeReason }),
});

/** What the domain is handed to emit events (the Inngest client's `send`, bound by the caller); it answers the engine's event ids. */
export type SendEvents = (
  events: ReturnType<typeof taskSubmitted.create> | ReturnType<typeof taskWake.create> | ReturnType<typeof taskWake.create>[],
) => Promise<{ ids: string[] }>;
