/**
 * Between agent turns: after a turn ends the run waits (`awaiting_followup`) until the person
 * sends a follow-up, asks to finish, or SESSION_IDLE_TIMEOUT passes. Queued messages go to the
 * same agent session as the next turn, all of them together and in order; the run then waits for
 * that turn as for the first. Every stage reads the database first, so a retried or re-driven
 * step delivers a turn once (the node ignores a resent prompt for a turn it started).
 */
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { agentSessions, taskMessages, tasks } from "@/db/schema";
import { signWorkspaceCallbackToken } from "../auth/tokens";
import type { AgentKind } from "../contracts/vm-agent";
import { forgeHosts } from "../forge-target";
import { publishTaskChange } from "../live/publish";
import { getNode } from "../nodes/lifecycle";
import { GONE_NODE_STATUSES } from "../contracts/statuses";
import { clientForNode } from "../nodes/vm-agent-client";
import type { Runtime } from "../runtime";
import { sessionSecrets } from "../secrets/agent-keys";
import { getSession, startNextTurn } from "../sessions/lifecycle";
import { getTask } from "../tasks/queries";
import { isTerminal } from "../tasks/state-machine";
import { finishStep, startStep } from "../tasks/timeline";
import { getWorkspace } from "../workspaces/lifecycle";
import { ENDED, LOST, PENDING } from "./placement";
import { onNode } from "./work";

/** The turn has ended: the task waits for a follow-up until its idle deadline. */
export async function awaitFollowupStage(rt: Runtime, taskId: string) {
  const task = await getTask(rt.db, taskId);
  await finishStep(rt.db, taskId, "running", "succeeded", task?.commitSha ? `commit ${task.commitSha.slice(0, 12)}` : "no changes");
  await startStep(rt.db, taskId, "awaiting_followup", { restart: true, detail: "waiting for a follow-up" });
  await rt.db.transaction(async (tx) => {
    await tx
      .update(tasks)
      .set({ executionStep: "awaiting_followup", idleUntil: sql`now() + ${`${rt.config.SESSION_IDLE_TIMEOUT} milliseconds`}::interval`, updatedAt: sql`now()` })
      .where(eq(tasks.id, taskId));
    await publishTaskChange(tx, taskId, "step");
  });
}

export type FollowupState = "deliver" | "finish" | typeof PENDING | typeof ENDED;

/** What the wait for a follow-up should do now: deliver queued messages, finish, or keep waiting. */
export async function followupReadiness(rt: Runtime, taskId: string): Promise<FollowupState> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  const [queued] = await rt.db.select({ id: taskMessages.id }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.status, "queued"))).limit(1);
  if (queued) return "deliver";
  if (task.finishRequestedAt) return "finish";
  return PENDING;
}

/**
 * Sends the queued messages to the session as its next turn. The session row moves to that turn
 * (running) and the messages are marked delivered in one transaction before the node is asked, so
 * the turn's completion can never arrive before the row expects it; a retry resends the same turn.
 */
export async function deliverFollowupsStage(rt: Runtime, taskId: string, sessionId: string): Promise<{ turn: number } | typeof ENDED | typeof LOST> {
  const task = await getTask(rt.db, taskId);
  if (!task || isTerminal(task.status)) return ENDED;
  const session = await getSession(rt.db, sessionId);
  const workspace = session && (await getWorkspace(rt.db, session.workspaceId));
  const node = workspace && (await getNode(rt.db, workspace.nodeId));
  if (!session || !workspace || !node || GONE_NODE_STATUSES.includes(node.status)) return LOST;

  const turn = await rt.db.transaction(async (tx) => {
    const [current] = await tx.select().from(agentSessions).where(eq(agentSessions.id, sessionId)).for("update");
    if (current!.status === "running") return current!.turn; // delivered already; this is a retry
    const queued = await tx.select({ id: taskMessages.id }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.status, "queued"))).orderBy(asc(taskMessages.id));
    const next = current!.turn + 1;
    await startNextTurn(tx, sessionId, next);
    await tx
      .update(taskMessages)
      .set({ status: "delivered", turn: next, deliveredAt: sql`now()` })
      .where(inArray(taskMessages.id, queued.map((m) => m.id)));
    await tx.update(tasks).set({ executionStep: "running", idleUntil: null, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
    await publishTaskChange(tx, taskId, "message");
    return next;
  });
  const messages = await rt.db.select({ body: taskMessages.body }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), eq(taskMessages.turn, turn))).orderBy(asc(taskMessages.id));
  const prompt = messages.map((m) => m.body).join("\n\n");
  const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId: workspace.id }, rt.config.CALLBACK_TOKEN_TTL);
  const secrets = await sessionSecrets({ executor: rt.db, ring: rt.secrets, config: rt.config }, task.userId, task.agent as AgentKind, task.repository);
  const client = clientForNode(rt, node);
  const sent = await onNode(rt, node.id, () => client.promptAgentSession(workspace.id, sessionId, { prompt, callbackToken, secrets, turn, forgeHosts: forgeHosts(rt.config.GITHUB_URL) }));
  if (sent === LOST) return LOST;
  await finishStep(rt.db, taskId, "awaiting_followup", "succeeded", `turn ${turn}: ${messages.length} message${messages.length === 1 ? "" : "s"}`);
  await startStep(rt.db, taskId, "running", { restart: true, detail: `turn ${turn}` });
  return { turn };
}

/** The wait ended without a follow-up (idle deadline or "finish now"): the task completes. */
export async function endFollowupsStage(rt: Runtime, taskId: string, why: "idle" | "finish") {
  await finishStep(rt.db, taskId, "awaiting_followup", "succeeded", why === "idle" ? `no follow-up within the idle timeout` : "finished by the person");
  await rt.db.update(tasks).set({ idleUntil: null }).where(eq(tasks.id, taskId));
}
