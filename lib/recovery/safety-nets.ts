/**
 * The safety nets the cron runs every minute. They are not how tasks normally finish (runs do
 * that, and the reconciler re-drives lost ones); they catch what slipped: a cleanup that failed, a
 * task with no step progress past its step's own limit, a node past its lifetime.
 */
import { and, eq, inArray, isNull, lt, or, sql } from "drizzle-orm";
import { errors, nodes, tasks, taskSteps } from "@/db/schema";
import type { ExecutionStep } from "../contracts/api";
import { ENDED_NODE_STATUSES, TERMINAL_TASK_STATUSES, WANTED_NODE_STATUSES } from "../contracts/statuses";
import type { Config } from "../config";
import type { Runtime } from "../runtime";
import { recordError, recordErrorOnce } from "../errors";
import { cleanupTask } from "../pipeline/finish";
import { reapIfIdle } from "../nodes/pool";
import { destroyNode } from "../nodes/lifecycle";
import { failTask } from "../tasks/fail-task";
import { nodeLost } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";
import { reportNodeOrphans } from "./orphans";
import { redriveTask } from "./redrive";
import { RUN_STATES } from "../tasks/state-machine";

/** Ended tasks whose cleanup did not finish (it failed, or its run was lost): clean up again. */
export async function retryCleanups(rt: Runtime, settleMs = 30_000) {
  const pending = await rt.db
    .select({ id: tasks.id })
    .from(tasks)
    .where(
      and(
        inArray(tasks.status, TERMINAL_TASK_STATUSES),
        isNull(tasks.cleanedUpAt),
        or(isNull(tasks.cleanupLeaseUntil), lt(tasks.cleanupLeaseUntil, sql`now()`)),
        lt(tasks.updatedAt, new Date(Date.now() - settleMs)),
      ),
    )
    .limit(50);
  const results = [];
  for (const task of pending) results.push({ taskId: task.id, ...(await cleanupTask(rt, task.id)) });
  return results;
}

/** How long a step may run before its task counts as stuck: the step's own limit plus STUCK_MARGIN. */
export function stepLimit(step: ExecutionStep, config: Config): number {
  const limits: Partial<Record<ExecutionStep, number>> = {
    node_selection: config.TASK_QUEUE_TIMEOUT,
    node_provisioning: config.NODE_PROVISIONING_TIMEOUT,
    node_agent_ready: config.NODE_AGENT_READY_TIMEOUT,
    workspace_ready: config.WORKSPACE_READY_TIMEOUT,
    running: config.AGENT_MAX_EXECUTION,
    awaiting_followup: config.SESSION_IDLE_TIMEOUT,
  };
  return (limits[step] ?? 0) + config.STUCK_MARGIN;
}

/** Tasks with a step running past its limit: re-driven once, then failed with the reason. */
export async function rescueStuckTasks(rt: Runtime, now = Date.now()) {
  const running = await rt.db
    .select({ task: tasks, step: taskSteps.step, startedAt: taskSteps.startedAt })
    .from(tasks)
    .innerJoin(taskSteps, and(eq(taskSteps.taskId, tasks.id), eq(taskSteps.status, "running")))
    .where(RUN_STATES.active);
  const rescued = [];
  for (const { task, step, startedAt } of running) {
    const limit = stepLimit(step as ExecutionStep, rt.config);
    if (now - startedAt.getTime() <= limit) continue;
    const reason = `no progress in step ${step} for ${Math.round((now - startedAt.getTime()) / 60_000)} min (its limit is ${Math.round(limit / 60_000)} min)`;
    const [before] = await rt.db.select({ id: errors.id }).from(errors).where(and(eq(errors.taskId, task.id), eq(errors.kind, "stuck"))).limit(1);
    await recordError(rt.db, { taskId: task.id, nodeId: task.nodeId, workspaceId: task.workspaceId, step, kind: "stuck", message: reason });
    if (before) {
      await failTask(rt.db, task.id, `stuck: ${reason}, again after it was re-driven`, "system", { step });
      rescued.push({ taskId: task.id, outcome: "failed" as const, cleanup: await cleanupTask(rt, task.id) });
    } else {
      rescued.push(await redriveTask(rt, task, `stuck: ${reason}`, Number.MAX_SAFE_INTEGER));
    }
  }
  return rescued;
}

/** Auto-provisioned nodes past MAX_AUTO_NODE_LIFETIME are destroyed once idle (never under a working agent). */
export async function retireOldNodes(rt: Runtime, now = Date.now()) {
  const old = await rt.db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.status, "running"), eq(nodes.autoProvisioned, true), lt(nodes.createdAt, new Date(now - rt.config.MAX_AUTO_NODE_LIFETIME))));
  const retired = [];
  for (const node of old) if (await reapIfIdle(rt, node.id, 0)) retired.push(node.id);
  return retired;
}

/**
 * Lost nodes (`error`) whose machine could not be destroyed when they were lost (the provider failed
 * then): destroyed again, since a cloud bills a machine until it is deleted. A failure is reported once and tried at the next pass.
 */
export async function destroyLostNodes(rt: Runtime, now = Date.now(), settleMs = 60_000) {
  const lost = await rt.db
    .select({ id: nodes.id })
    .from(nodes)
    .where(and(eq(nodes.status, "error"), lt(nodes.updatedAt, new Date(now - settleMs))))
    .limit(50);
  const destroyed: string[] = [];
  for (const node of lost) {
    try {
      await destroyNode(rt, node.id);
      destroyed.push(node.id);
    } catch (error) {
      await recordErrorOnce(rt.db, { kind: "cleanup", nodeId: node.id, step: "safety_net", message: `node ${node.id}'s machine could not be destroyed: ${(error as Error).message}` });
    }
  }
  return destroyed;
}

const reportOrphan = (rt: Runtime, entry: { message: string; nodeId?: string | null; taskId?: string | null; workspaceId?: string | null }) =>
  recordErrorOnce(rt.db, { ...entry, kind: "orphan", step: "safety_net" });

/**
 * Orphans, reported with what was done about them: node daemons running without a live node row
 * (stopped, since they are ours and hold nothing), and unfinished tasks still pointing at a node
 * that is gone (their run is woken, or re-driven by the reconciler if it is lost), and workspace
 * folders and tmux sessions on running nodes that belong to no task (orphans.ts).
 */
export async function reportOrphans(rt: Runtime, now = Date.now()) {
  const reported: string[] = [];
  for (const running of rt.provider.listRunning?.() ?? []) {
    const [row] = await rt.db.select({ status: nodes.status }).from(nodes).where(eq(nodes.id, running.id));
    if (row && WANTED_NODE_STATUSES.includes(row.status)) continue;
    await rt.provider.destroy(running);
    const message = `node ${running.id}'s daemon was running without a live node (${row ? `its row says ${row.status}` : "no row"}); stopped`;
    if (await reportOrphan(rt, { nodeId: running.id, message })) reported.push(message);
  }
  const stranded = await rt.db
    .select({ taskId: tasks.id, nodeId: nodes.id, workspaceId: tasks.workspaceId, nodeStatus: nodes.status })
    .from(tasks)
    .innerJoin(nodes, eq(nodes.id, tasks.nodeId))
    .where(and(RUN_STATES.active, inArray(nodes.status, ENDED_NODE_STATUSES), lt(nodes.updatedAt, new Date(now - 60_000))));
  for (const t of stranded) {
    await wakeRuns(rt, [nodeLost.create({ taskId: t.taskId, nodeId: t.nodeId })]);
    const message = `task ${t.taskId} still points at node ${t.nodeId}, which is ${t.nodeStatus}; its run was woken to move on`;
    if (await reportOrphan(rt, { taskId: t.taskId, nodeId: t.nodeId, workspaceId: t.workspaceId, message })) reported.push(message);
  }
  reported.push(...(await reportNodeOrphans(rt, now)));
  return reported;
}
