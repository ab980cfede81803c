/**
 * Runs the engine calls alive but never resumes, told two ways.
 *
 * Silent runs: every step records when the run will call again (`run_next_check_by`: within
 * RUN_STEP_MAX for its next step, a wait's slice, a retry's time; steps.ts). A run
 * RUN_STALL_AFTER past its own promise is not running any more: the engine lost the pause it was
 * parked on (v1.1.0 under a burst of wakes logs "error dequeueing consumed pause job when
 * resuming" and the run never moves again; measured: 13 of 100 queued tasks stuck that way), or
 * a restarted engine restored it between two steps and never calls it.
 *
 * A run the engine calls alive but never resumes: a self-hosted engine (`inngest start`) restarted
 * from its snapshot restores runs without the waits they were parked on, so they answer "Running"
 * forever while wakes go unheard. The reconciler cannot see it (the run is alive); its sign is in
 * our database: the agent's session ended a while ago, the supervisor has woken the run since
 * (rewake.ts), and the run has not looked (`run_saw_agent_end_at`, written by the run's
 * check when it sees the end: steps.ts `recordRunSawAgentEnd`). Such a run is re-driven: the next generation continues from
 * what the database records, and the stalled one, should it ever move, finds itself superseded.
 */
import { and, eq, isNull, lt, or } from "drizzle-orm";
import { agentSessions, tasks } from "@/db/schema";
import type { Runtime } from "../runtime";
import { redriveTask, type Redriven } from "./redrive";
import { RUN_STATES } from "../tasks/state-machine";
import { missedAgentEnd } from "./rewake";

/** Re-drives runs RUN_STALL_AFTER past the time they promised to call again. */
export async function redriveSilentRuns(rt: Runtime, now = Date.now()): Promise<Redriven[]> {
  const stallMs = rt.config.RUN_STALL_AFTER;
  const silent = await rt.db
    .select({ id: tasks.id, userId: tasks.userId, runGeneration: tasks.runGeneration, redriveCount: tasks.redriveCount, runId: tasks.runId, promised: tasks.runNextCheckBy })
    .from(tasks)
    .where(and(RUN_STATES.active, lt(tasks.runNextCheckBy, new Date(now - stallMs))))
    .limit(100);
  const redriven: Redriven[] = [];
  for (const task of silent) {
    const why = `run ${task.runId ?? "(not recorded)"} promised to call again by ${task.promised!.toISOString()} and has not in ${Math.round(stallMs / 1000)} s since: the engine keeps it without running it`;
    redriven.push(await redriveTask(rt, task, why));
  }
  return redriven;
}

export async function redriveStalledRuns(rt: Runtime, now = Date.now()): Promise<Redriven[]> {
  const stallMs = rt.config.RUN_STALL_AFTER;
  const stalled = await rt.db
    .select({ id: tasks.id, userId: tasks.userId, runGeneration: tasks.runGeneration, redriveCount: tasks.redriveCount, runId: tasks.runId })
    .from(tasks)
    .innerJoin(agentSessions, and(eq(agentSessions.taskId, tasks.id), eq(agentSessions.workspaceId, tasks.workspaceId)))
    .where(
      and(
        missedAgentEnd,
        lt(agentSessions.endedAt, new Date(now - stallMs)),
        // The current run has had its time too: one re-driven a moment ago has not had its chance to look.
        or(isNull(tasks.runDispatchedAt), lt(tasks.runDispatchedAt, new Date(now - stallMs))),
      ),
    )
    .limit(100);
  const redriven: Redriven[] = [];
  for (const task of stalled) {
    const why = `run ${task.runId ?? "(not recorded)"} has not resumed in ${Math.round(stallMs / 1000)} s since its agent ended, though woken: the engine keeps it without running it`;
    redriven.push(await redriveTask(rt, task, why));
  }
  return redriven;
}
