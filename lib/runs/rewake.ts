/**
 * A wake that was lost (sent while the engine was busy or down, or never sent because the app
 * died between its commit and its send) would leave a finished agent's run waiting until its
 * slice ends. The supervisor looks for exactly that, in the database: a task whose agent turn is
 * under way by its state (RUN_STATES.agentTurn) though its session ended a few seconds ago, and
 * whose run has not seen that end. A task waiting for a follow-up is not one: its run saw the end
 * and moved on, and waking it would only spend its steps.
 */
import { and, eq, inArray, isNull, lt, or } from "drizzle-orm";
import { agentSessions, tasks } from "@/db/schema";
import { ENDED_SESSION_STATUSES } from "../contracts/statuses";
import type { Runtime } from "../runtime";
import { RUN_STATES } from "../tasks/state-machine";
import { agentTurnEnd } from "../contracts/events";
import { wakeRuns } from "../tasks/wake-run";

/** Runs whose agent's turn ended unseen: the end their run has not looked at. */
export const missedAgentEnd = and(
  RUN_STATES.agentTurn,
  inArray(agentSessions.status, ENDED_SESSION_STATUSES),
  or(isNull(tasks.runSawAgentEndAt), lt(tasks.runSawAgentEndAt, agentSessions.endedAt)),
);

export async function rewakeFinishedAgents(rt: Runtime, settleMs = 5_000, now = Date.now()) {
  const stranded = await rt.db
    .select({ taskId: tasks.id, sessionId: agentSessions.id, sessionStatus: agentSessions.status, turn: agentSessions.turn, error: agentSessions.errorMessage, branch: tasks.branch, commit: agentSessions.commitSha, pushed: tasks.pushed })
    .from(tasks)
    .innerJoin(agentSessions, and(eq(agentSessions.taskId, tasks.id), eq(agentSessions.workspaceId, tasks.workspaceId)))
    .where(and(missedAgentEnd, lt(agentSessions.endedAt, new Date(now - settleMs))))
    .limit(100);
  await wakeRuns(rt, stranded.map((t) => agentTurnEnd({ ...t, succeeded: t.sessionStatus === "stopped" })), "throw");
  return stranded.map((t) => t.taskId);
}
