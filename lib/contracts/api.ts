/** The public HTTP API of the control plane, shared by route handlers, the UI and the tests. */
import { z } from "zod";
import { AgentKind } from "./vm-agent";

export const TaskStatus = z.enum(["draft", "ready", "queued", "delegated", "in_progress", "completed", "failed", "cancelled"]);
export type TaskStatus = z.infer<typeof TaskStatus>;

/** Pipeline steps in the order they run; a task's executionStep only moves forward through this list. */
export const EXECUTION_STEPS = [
  "node_selection",
  "node_provisioning",
  "node_agent_ready",
  "workspace_creation",
  "workspace_ready",
  "agent_session",
  "running",
  "awaiting_followup",
  "cleanup",
] as const;
export const ExecutionStep = z.enum(EXECUTION_STEPS);
export type ExecutionStep = z.infer<typeof ExecutionStep>;

export const STEP_LABELS: Record<ExecutionStep, string> = {
  node_selection: "Select a node",
  node_provisioning: "Provision a node",
  node_agent_ready: "Node agent ready",
  workspace_creation: "Create workspace",
  workspace_ready: "Workspace ready",
  agent_session: "Start agent",
  running: "Agent working",
  awaiting_followup: "Awaiting follow-up",
  cleanup: "Clean up",
};

/** A repository: an absolute local path on the node, or a git URL (https, ssh, git, file). */
export const Repository = z
  .string()
  .trim()
  .min(1, "is required")
  .max(2048)
  .refine(
    (value) =>
      value.startsWith("/") ||
      /^(https?|ssh|git|file):\/\/[^\s]+$/.test(value) ||
      /^[\w.-]+@[\w.-]+:[\w./~-]+$/.test(value),
    "must be an absolute local path or a git URL (https://, ssh://, git://, file:// or user@host:path)",
  );

export const CreateTaskRequest = z.object({
  repository: Repository,
  prompt: z.string().trim().min(1, "is required").max(20_000),
  agent: AgentKind.default("script"),
});
export type CreateTaskRequest = z.input<typeof CreateTaskRequest>;

export const CreateTaskResponse = z.object({
  taskId: z.string(),
  branch: z.string(),
  status: z.literal("queued"),
});
export type CreateTaskResponse = z.infer<typeof CreateTaskResponse>;

export const CancelTaskResponse = z.object({ taskId: z.string(), status: z.literal("cancelled") });
export type CancelTaskResponse = z.infer<typeof CancelTaskResponse>;

export const TaskStepView = z.object({
  step: ExecutionStep,
  label: z.string(),
  status: z.enum(["running", "succeeded", "failed", "skipped"]),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  durationMs: z.number().nullable(),
  detail: z.string().nullable(),
});
export type TaskStepView = z.infer<typeof TaskStepView>;

export const TaskSummary = z.object({
  id: z.string(),
  repository: z.string(),
  prompt: z.string(),
  agent: AgentKind,
  status: TaskStatus,
  executionStep: ExecutionStep.nullable(),
  branch: z.string(),
  commit: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type TaskSummary = z.infer<typeof TaskSummary>;

export const TaskDetail = TaskSummary.extend({
  error: z.string().nullable(),
  pushed: z.boolean(),
  startedAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  /** When its workspace was cleaned up and its node slot freed (after the task ended). */
  cleanedUpAt: z.string().nullable(),
  steps: z.array(TaskStepView),
  workspace: z
    .object({
      id: z.string(),
      status: z.string(),
      nodeId: z.string(),
      error: z.string().nullable(),
      /** When the node reported the workspace ready. */
      readyAt: z.string().nullable(),
    })
    .nullable(),
  node: z.object({ id: z.string(), provider: z.string(), status: z.string(), endpoint: z.string().nullable() }).nullable(),
  /** The newest lines of the agent's output (for CLI agents, their JSON event stream). */
  output: z.object({ lines: z.array(z.string()), truncated: z.boolean() }),
});
export type TaskDetail = z.infer<typeof TaskDetail>;

export const TaskList = z.object({ tasks: z.array(TaskSummary) });
export type TaskList = z.infer<typeof TaskList>;

/**
 * What the live streams send. `GET /api/tasks/{id}/events` sends `task` messages (the first is the
 * snapshot); `GET /api/events` first sends `tasks` (the list), then a `task` message per change.
 * Every message carries an SSE `id`, so a reconnecting browser resumes with Last-Event-ID.
 */
export const LiveMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("task"), task: TaskDetail }),
  z.object({ type: z.literal("tasks"), tasks: z.array(TaskSummary) }),
]);
export type LiveMessage = z.infer<typeof LiveMessage>;

/** Every 4xx/5xx body of the API. */
export const ApiError = z.object({
  error: z.string(),
  /** The request field that is wrong, dotted ("prompt", "agent"). */
  field: z.string().optional(),
});
export type ApiError = z.infer<typeof ApiError>;
