/** Reads of tasks as the API and the live stream show them. */
import { asc, desc, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, nodes, tasks, taskSteps, workspaces } from "@/db/schema";
import { STEP_LABELS, type ExecutionStep, type TaskDetail, type TaskStatus, type TaskSummary, type TaskStepView } from "../contracts/api";
import type { AgentKind } from "../contracts/vm-agent";
import { taskOutput } from "../sessions/output";

type TaskRow = typeof tasks.$inferSelect;

/** How many of the newest output lines a task view carries. */
const OUTPUT_LINES = 300;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function summary(row: TaskRow): TaskSummary {
  return {
    id: row.id,
    repository: row.repository,
    prompt: row.prompt,
    agent: row.agent as AgentKind,
    status: row.status as TaskStatus,
    executionStep: row.executionStep as ExecutionStep | null,
    branch: row.branch,
    baseBranch: row.baseBranch,
    commit: row.commitSha,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getTask(executor: Executor, taskId: string) {
  const [row] = await executor.select().from(tasks).where(eq(tasks.id, taskId));
  return row;
}

/** A task as its pages show it; with `ownerId`, only if it is that person's (another's is not found). */
export async function getTaskDetail(executor: Executor, taskId: string, ownerId?: string): Promise<TaskDetail | undefined> {
  const row = await getTask(executor, taskId);
  if (!row || (ownerId !== undefined && row.userId !== ownerId)) return undefined;
  const [steps, [workspace], [node], output, [session]] = await Promise.all([
    executor.select().from(taskSteps).where(eq(taskSteps.taskId, taskId)).orderBy(asc(taskSteps.id)),
    row.workspaceId ? executor.select().from(workspaces).where(eq(workspaces.id, row.workspaceId)) : Promise.resolve([]),
    row.nodeId ? executor.select().from(nodes).where(eq(nodes.id, row.nodeId)) : Promise.resolve([]),
    taskOutput(executor, taskId, OUTPUT_LINES),
    row.workspaceId ? executor.select().from(agentSessions).where(eq(agentSessions.workspaceId, row.workspaceId)).limit(1) : Promise.resolve([]),
  ]);
  return {
    ...summary(row),
    error: row.errorMessage,
    pushed: row.pushed,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    cleanedUpAt: iso(row.cleanedUpAt),
    steps: steps.map(
      (s): TaskStepView => ({
        step: s.step as ExecutionStep,
        label: STEP_LABELS[s.step as ExecutionStep] ?? s.step,
        status: s.status as TaskStepView["status"],
        startedAt: s.startedAt.toISOString(),
        endedAt: iso(s.endedAt),
        durationMs: s.endedAt ? s.endedAt.getTime() - s.startedAt.getTime() : null,
        detail: s.detail,
      }),
    ),
    workspace: workspace
      ? { id: workspace.id, status: workspace.status, nodeId: workspace.nodeId, error: workspace.errorMessage, readyAt: iso(workspace.readyAt) }
      : null,
    node: node ? { id: node.id, provider: node.provider, status: node.status, endpoint: node.endpoint } : null,
    session: session ? { id: session.id, status: session.status, startedAt: iso(session.startedAt), endedAt: iso(session.endedAt) } : null,
    output,
  };
}

export async function listTasks(executor: Executor, userId: string, limit = 100): Promise<TaskSummary[]> {
  const rows = await executor.select().from(tasks).where(eq(tasks.userId, userId)).orderBy(desc(tasks.createdAt)).limit(limit);
  return rows.map(summary);
}
