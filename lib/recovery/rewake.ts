/**
 * A wake that was lost (sent while the engine was busy or down, or never sent because the app
 * died between its commit and its send) would leave a finished agent's run waiting until its
 * slice ends. The supervisor looks for exactly that, in the database: a task still in progress
 * whose agent session ended a few seconds ago. It wakes the run again; a wake is idempotent.
 */
import { and, eq, inArray, lt } from "drizzle-orm";
import { agentSessions, tasks } from "@/db/schema";
import { taskWake } from "../contracts/events";
import type { Runtime } from "../runtime";

export async function rewakeFinishedAgents(rt: Runtime, settleMs = 5_000) {
  const stranded = await rt.db
    .select({ taskId: tasks.id })
    .from(tasks)
    .innerJoin(agentSessions, and(eq(agentSessions.taskId, tasks.id), eq(agentSessions.workspaceId, tasks.workspaceId)))
    .where(and(eq(tasks.status, "in_progress"), inArray(agentSessions.status, ["stopped", "error"]), lt(agentSessions.endedAt, new Date(Date.now() - settleMs))))
    .limit(100);
  if (stranded.length) await rt.send(stranded.map((t) => taskWake.create({ taskId: t.taskId, reason: "agent-completed" })));
  return stranded.map((t) => t.taskId);
}
