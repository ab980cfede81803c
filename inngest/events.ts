/** Every event the pipeline sends or waits for, declared once with its schema. */
import { eventType } from "inngest";
import { z } from "zod";

export const taskSubmitted = eventType("task/submitted", {
  schema: z.object({
    taskId: z.string(),
    userId: z.string(),
    /** `<taskId>:<runGeneration>`: the run's idempotency key, so a re-drive is not swallowed as a duplicate. */
    runKey: z.string(),
  }),
});

export const taskCancelled = eventType("task/cancelled", {
  schema: z.object({ taskId: z.string(), reason: z.string().optional() }),
});

export const nodeReady = eventType("node/ready", {
  schema: z.object({ nodeId: z.string() }),
});

export const workspaceReady = eventType("workspace/ready", {
  schema: z.object({ workspaceId: z.string(), taskId: z.string() }),
});

export const workspaceProvisioningFailed = eventType("workspace/provisioning-failed", {
  schema: z.object({ workspaceId: z.string(), taskId: z.string(), error: z.string() }),
});

export const agentCompleted = eventType("agent/completed", {
  schema: z.object({
    sessionId: z.string(),
    workspaceId: z.string(),
    taskId: z.string(),
    branch: z.string(),
    commit: z.string().nullable(),
    pushed: z.boolean(),
  }),
});

export const agentFailed = eventType("agent/failed", {
  schema: z.object({ sessionId: z.string(), workspaceId: z.string(), taskId: z.string(), error: z.string() }),
});
