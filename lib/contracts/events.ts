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

/*
 * Wake events: each says one thing that happened to a task, after the writer committed it. A run's
 * wait listens for the events of its stage (and the cross-cutting ones that matter to it, such as a
 * cancel), matched on the task id, then checks the database: the database decides, the event only
 * says "look now" (inngest/wait-for.ts). Sending one goes through lib/tasks/wake-run.ts, which
 * coalesces them per task and event name until the run looks.
 */

/** The node's daemon reported ready (its `/ready` callback, or the monitor found it answering). */
export const nodeReady = eventType("node/ready", { schema: z.object({ taskId: z.string(), nodeId: z.string() }) });

/** The task's node is gone (declared lost, destroyed, or found ended by the safety net). */
export const nodeLost = eventType("node/lost", { schema: z.object({ taskId: z.string(), nodeId: z.string() }) });

/** POST /api/workspaces/{id}/ready: the workspace is set up. */
export const workspaceReady = eventType("workspace/ready", { schema: z.object({ taskId: z.string(), workspaceId: z.string() }) });

/** POST /api/workspaces/{id}/provisioning-failed: setting the workspace up failed (the task failed with it). */
export const workspaceProvisioningFailed = eventType("workspace/provisioning-failed", {
  schema: z.object({ taskId: z.string(), workspaceId: z.string() }),
});

/** A turn of the agent session ended well (its completion callback): its push result, as the callback reported it. */
export const agentCompleted = eventType("agent/completed", {
  schema: z.object({ taskId: z.string(), sessionId: z.string(), turn: z.number().int().min(1), branch: z.string(), commit: z.string().nullable(), pushed: z.boolean() }),
});

/** A turn of the agent session failed (the task failed with it): the agent's error. */
export const agentFailed = eventType("agent/failed", {
  schema: z.object({ taskId: z.string(), sessionId: z.string(), turn: z.number().int().min(1), error: z.string().nullable() }),
});

/** The event a turn's end sends: agent/completed when it succeeded, agent/failed otherwise (from its callback, or read back from the database). */
export function agentTurnEnd(end: { taskId: string; sessionId: string; turn: number; succeeded: boolean; branch: string; commit: string | null; pushed: boolean; error: string | null }) {
  const { taskId, sessionId, turn } = end;
  return end.succeeded ? agentCompleted.create({ taskId, sessionId, turn, branch: end.branch, commit: end.commit, pushed: end.pushed }) : agentFailed.create({ taskId, sessionId, turn, error: end.error });
}

/** The person sent a follow-up (a `task_messages` row is queued). */
export const taskFollowup = eventType("task/followup", { schema: z.object({ taskId: z.string() }) });

/** The person asked to finish instead of waiting for a follow-up. */
export const taskFinishRequested = eventType("task/finish-requested", { schema: z.object({ taskId: z.string() }) });

/** The person cancelled the task. */
export const taskCancelled = eventType("task/cancelled", { schema: z.object({ taskId: z.string() }) });

/** A slot is free for this queued task (a task cleaned up, a node destroyed, or the supervisor found one). */
export const taskSlotAvailable = eventType("task/slot-available", { schema: z.object({ taskId: z.string(), userId: z.string() }) });

/** The forge said a pull request commit's CI changed (its webhook: a check run, check suite, workflow run or status). */
export const pullRequestCi = eventType("pull-request/ci", { schema: z.object({ taskId: z.string(), commit: z.string() }) });

/** Every wake event, once. */
export const WAKE_EVENTS = [
  nodeReady,
  nodeLost,
  workspaceReady,
  workspaceProvisioningFailed,
  agentCompleted,
  agentFailed,
  taskFollowup,
  taskFinishRequested,
  taskCancelled,
  taskSlotAvailable,
  pullRequestCi,
] as const;
export type WakeEventType = (typeof WAKE_EVENTS)[number];
/** A wake event ready to send (built with its type's `.create`). */
export type WakeEvent = ReturnType<WakeEventType["create"]>;
export type WakeEventName = WakeEventType["name"];

/** What the domain is handed to emit events (the Inngest client's `send`, bound by the caller); it answers the engine's event ids. */
export type SendEvents = (events: ReturnType<typeof taskSubmitted.create> | WakeEvent | WakeEvent[]) => Promise<{ ids: string[] }>;
