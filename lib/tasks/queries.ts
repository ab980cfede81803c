/** Reads of tasks as the API and the live stream show them. */
import { and, asc, desc, eq, inArray, isNull, or, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { agentSessions, nodes, taskAttempts, tasks, taskSteps, workspaces } from "@/db/schema";
import { STEP_LABELS, type ExecutionStep, type TaskAttemptView, type TaskDetail, type TaskDiffView, type TaskSummary, type TaskUsageSummary, type TaskStepView } from "../contracts/api";
import type { TaskStepStatus } from "../contracts/statuses";
import type { AgentKind } from "../contracts/vm-agent";
import { taskOutput } from "../sessions/output";
import { taskDiff, taskDiffSummary } from "../sessions/turns";
import { pullRequestView } from "../forge/pull-requests";
import { countOutputBatches, currentOutputScope } from "../sessions/output-reads";
import { bootLogView } from "../workspaces/boot-log";
import { heldWorkView } from "../workspaces/held";
import { listMessages } from "./messages";
import { taskRefusals } from "../egress/refusals";
import { totalTokens } from "../contracts/usage";
import { taskUsage, usageOfTasks } from "../usage/reads";
import { taskChecks } from "../checks/rounds";
import { taskCi } from "../ci/rounds";
import { taskBudgetView } from "../budgets/limits";
import { taskGroupView } from "../groups/view";
import { config } from "../config";
import { isTerminal } from "./state-machine";

type TaskRow = typeof tasks.$inferSelect;

/** How many of the newest output lines a task view carries. */
const OUTPUT_LINES = 300;
/** And of each earlier attempt's. */
const ATTEMPT_OUTPUT_LINES = 100;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

function summary(row: TaskRow, usage: TaskUsageSummary | undefined): TaskSummary {
  return {
    id: row.id,
    repository: row.repository,
    prompt: row.prompt,
    agent: row.agent as AgentKind,
    status: row.status,
    executionStep: row.executionStep as ExecutionStep | null,
    branch: row.branch,
    model: row.model,
    baseBranch: row.baseBranch,
    commit: row.commitSha,
    usage: usage ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

export async function getTask(executor: Executor, taskId: string) {
  const [row] = await executor.select().from(tasks).where(eq(tasks.id, taskId));
  return row;
}

/** A task as its pages show it; with `ownerId`, only if it is that person's (another's is not found). */
function stepView(s: { step: string; status: TaskStepStatus; detail: string | null; startedAt: Date; endedAt: Date | null }): TaskStepView {
  return {
    step: s.step as ExecutionStep,
    label: STEP_LABELS[s.step as ExecutionStep] ?? s.step,
    status: s.status,
    startedAt: s.startedAt.toISOString(),
    endedAt: iso(s.endedAt),
    durationMs: s.endedAt ? s.endedAt.getTime() - s.startedAt.getTime() : null,
    detail: s.detail,
  };
}

export async function getTaskDetail(executor: Executor, taskId: string, ownerId?: string): Promise<TaskDetail | undefined> {
  const row = await getTask(executor, taskId);
  if (!row || (ownerId !== undefined && row.userId !== ownerId)) return undefined;
  const [steps, [workspace], [node], [session], attempts] = await Promise.all([
    executor.select().from(taskSteps).where(eq(taskSteps.taskId, taskId)).orderBy(asc(taskSteps.id)),
    row.workspaceId ? executor.select().from(workspaces).where(eq(workspaces.id, row.workspaceId)) : Promise.resolve([]),
    row.nodeId ? executor.select().from(nodes).where(eq(nodes.id, row.nodeId)) : Promise.resolve([]),
    row.workspaceId ? executor.select().from(agentSessions).where(eq(agentSessions.workspaceId, row.workspaceId)).limit(1) : Promise.resolve([]),
    executor.select().from(taskAttempts).where(eq(taskAttempts.taskId, taskId)).orderBy(asc(taskAttempts.id)),
  ]);
  const settled = isTerminal(row.status) || row.finishRequestedAt !== null;
  const [messages, pullRequest, diff, boot, heldWork, refusals, usage, checks, ci, budget, group] = await Promise.all([
    listMessages(executor, taskId),
    pullRequestView(executor, taskId),
    taskDiffSummary(executor, taskId),
    row.workspaceId ? bootLogView(executor, row.workspaceId) : { stages: [], setupOutput: [], setupOutputTruncated: false },
    heldWorkView(executor, taskId),
    taskRefusals(executor, taskId),
    taskUsage(executor, taskId),
    taskChecks(executor, taskId, session?.id, config().MAX_CHECK_ROUNDS, settled),
    taskCi(executor, taskId, session?.id, config().MAX_CI_ROUNDS, settled),
    taskBudgetView(executor, config(), taskId, row.budgetUsd),
    row.groupId ? taskGroupView(executor, config(), row.groupId) : undefined,
  ]);
  // A retried task's output is its current attempt's; before its agent starts there is none.
  const scope = currentOutputScope(taskId, attempts.length > 0, session?.id);
  const output = scope
    ? { ...(await taskOutput(executor, taskId, OUTPUT_LINES, scope.sessionId)), batches: await countOutputBatches(executor, scope) }
    : { lines: [], truncated: false, batches: 0 };
  const attemptViews = await Promise.all(
    attempts.map(async (a, index): Promise<TaskAttemptView> => ({
      attempt: index + 1,
      status: a.status,
      error: a.errorMessage,
      commit: a.commitSha,
      pushed: a.pushed,
      startedAt: iso(a.startedAt),
      endedAt: iso(a.endedAt),
      steps: a.steps.map((s) => stepView({ ...s, startedAt: new Date(s.startedAt), endedAt: s.endedAt ? new Date(s.endedAt) : null })),
      output: a.sessionId ? await taskOutput(executor, taskId, ATTEMPT_OUTPUT_LINES, a.sessionId) : { lines: [], truncated: false },
    })),
  );
  return {
    ...summary(row, usage.total.turns > 0 ? { costUsd: usage.total.costUsd, tokens: totalTokens(usage.total), unpricedTurns: usage.total.unpricedTurns } : undefined),
    error: row.errorMessage,
    pushed: row.pushed,
    startedAt: iso(row.startedAt),
    completedAt: iso(row.completedAt),
    cleanedUpAt: iso(row.cleanedUpAt),
    steps: steps.map(stepView),
    workspace: workspace
      ? { id: workspace.id, status: workspace.status, nodeId: workspace.nodeId, error: workspace.errorMessage, readyAt: iso(workspace.readyAt) }
      : null,
    node: node ? { id: node.id, provider: node.provider, status: node.status, endpoint: node.endpoint } : null,
    session: session ? { id: session.id, status: session.status, startedAt: iso(session.startedAt), endedAt: iso(session.endedAt), error: session.errorMessage } : null,
    output,
    messages,
    idleUntil: iso(row.idleUntil),
    finishRequested: row.finishRequestedAt !== null,
    bootLog: boot,
    network: {
      policy: row.egress?.policy ?? null,
      allowHosts: row.egress?.allowHosts ?? [],
      allowPrivate: row.egress?.allowPrivate ?? [],
      enforcement: node?.egress ? { mode: node.egress as "namespaces" | "none", reason: node.egressReason } : null,
      refusals,
    },
    heldWork,
    diff,
    pullRequest,
    usageDetail: usage,
    checks: checks ?? null,
    ci: ci ?? null,
    budget,
    group: group ?? null,
    attempts: attemptViews,
  };
}

export async function listTasks(executor: Executor, userId: string, limit = 100): Promise<TaskSummary[]> {
  // Best of N lists once, as its first candidate (its page compares them all).
  const rows = await executor
    .select()
    .from(tasks)
    .where(and(eq(tasks.userId, userId), or(isNull(tasks.groupId), eq(tasks.groupId, tasks.id))))
    .orderBy(desc(tasks.createdAt))
    .limit(limit);
  const usage = await usageOfTasks(executor, rows.map((row) => row.id));
  const groups = rows.some((row) => row.groupId)
    ? await executor.select({ groupId: tasks.groupId, size: sql<number>`count(*)::int` }).from(tasks).where(inArray(tasks.groupId, rows.flatMap((row) => (row.groupId ? [row.groupId] : [])))).groupBy(tasks.groupId)
    : [];
  return rows.map((row) => {
    const size = groups.find((g) => g.groupId === row.groupId)?.size;
    return { ...summary(row, usage.get(row.id)), ...(size ? { candidates: size } : {}) };
  });
}

/** The task's diff (patch included) for `ownerId`: undefined when the task is not theirs, null when no turn reported one yet. */
export async function getTaskDiff(executor: Executor, taskId: string, ownerId: string): Promise<TaskDiffView | null | undefined> {
  const row = await getTask(executor, taskId);
  if (!row || row.userId !== ownerId) return undefined;
  return taskDiff(executor, taskId);
}
