/**
 * Stuck tasks: a step running past its own limit (plus STUCK_MARGIN) though its run calls in. Such a
 * task is re-driven once; stuck again after that, it is failed with the reason and cleaned up.
 */
import { and, eq } from "drizzle-orm";
import { errors, tasks, taskSteps } from "@/db/schema";
import type { ExecutionStep } from "../contracts/api";
import type { Config } from "../config";
import type { Runtime } from "../runtime";
import { recordError } from "../errors";
import { failTask } from "../tasks/fail-task";
import { RUN_STATES } from "../tasks/state-machine";
import { cleanupTask } from "./cleanup";
import { redriveTask } from "./redrive";

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
