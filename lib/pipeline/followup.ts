/**
 * Between agent turns: after a turn ends the run waits (`awaiting_followup`) until the person
 * sends a follow-up, asks to finish, or SESSION_IDLE_TIMEOUT passes. Queued messages go to the
 * same agent session as the next turn, all of them together and in order; the run then waits for
 * that turn as for the first. Every stage reads the database first, so a retried or re-driven
 * step delivers a turn once (the node ignores a resent prompt for a turn it started).
 */
import { eq, sql } from "drizzle-orm";
import { tasks } from "@/db/schema";
import { signWorkspaceCallbackToken } from "../auth/tokens";
import type { AgentKind } from "../contracts/vm-agent";
import { forgeHosts } from "../forge-target";
import { publishTaskChange } from "../live/publish";
import type { Runtime } from "../runtime";
import { sessionSecrets } from "../secrets/agent-keys";
import { beginNextTurn } from "../sessions/lifecycle";
import { deliverQueuedMessages, hasQueuedMessages, turnMessages } from "../tasks/messages";
import { finishStep, startStep } from "../tasks/timeline";
import { queueChecksFollowup, taskChecks } from "../checks/rounds";
import { ENDED, keySource, LOST, openStage, PENDING } from "./stage";

/** The turn has ended: the task waits for a follow-up until its idle deadline. */
export async function awaitFollowupStage(rt: Runtime, taskId: string, sessionId: string) {
  const stage = await openStage(rt, taskId);
  // Ended meanwhile (cancelled): nothing to wait for; the wait's first look says so.
  if (stage === ENDED) return;
  const { task } = stage;
  // A failed round of checks queues the system's follow-up, which the wait then delivers at once; none starts past a budget.
  const held = task.budgetPausedAt !== null;
  const checks = await rt.db.transaction((tx) =>
    held ? taskChecks(tx, taskId, sessionId, rt.config.MAX_CHECK_ROUNDS) : queueChecksFollowup(tx, { taskId, sessionId, maxRounds: rt.config.MAX_CHECK_ROUNDS, finishRequested: task.finishRequestedAt !== null }),
  );
  // The turn's step ended already, in the pull-request stage (endTurnStep), the first step after every turn.
  const detail = held ? (task.budgetReason ?? "a budget was reached") : checks?.state === "fixing" ? "sending the failed checks to the agent" : "waiting for a follow-up";
  await startStep(rt.db, taskId, "awaiting_followup", { restart: true, detail });
  await rt.db.transaction(async (tx) => {
    await tx
      .update(tasks)
      .set({ executionStep: "awaiting_followup", idleUntil: sql`now() + ${`${rt.config.SESSION_IDLE_TIMEOUT} milliseconds`}::interval`, updatedAt: sql`now()` })
      .where(eq(tasks.id, taskId));
    await publishTaskChange(tx, taskId, "step");
  });
}

/**
 * With no wait for a person (SESSION_IDLE_TIMEOUT 0): a failed round of checks still goes back to
 * the agent. Queues the system's follow-up when rounds are left; true when it is there to deliver.
 */
export async function checksRoundStage(rt: Runtime, taskId: string, sessionId: string): Promise<boolean> {
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return false;
  const { task } = stage;
  if (task.budgetPausedAt) return false;
  const checks = await rt.db.transaction((tx) => queueChecksFollowup(tx, { taskId, sessionId, maxRounds: rt.config.MAX_CHECK_ROUNDS, finishRequested: task.finishRequestedAt !== null }));
  if (checks?.state !== "fixing") return false;
  await startStep(rt.db, taskId, "awaiting_followup", { restart: true, detail: "sending the failed checks to the agent" });
  return hasQueuedMessages(rt.db, taskId);
}

export type FollowupState = "deliver" | "finish" | typeof PENDING | typeof ENDED;

/** What the wait for a follow-up should do now: deliver queued messages, finish, or keep waiting. */
export async function followupReadiness(rt: Runtime, taskId: string): Promise<FollowupState> {
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return ENDED;
  // Held by a budget: follow-ups wait for it to be raised (which wakes this wait), or the person finishes.
  if (!stage.task.budgetPausedAt && (await hasQueuedMessages(rt.db, taskId))) return "deliver";
  if (stage.task.finishRequestedAt) return "finish";
  return PENDING;
}

/**
 * Sends the queued messages to the session as its next turn. The session moves to that turn
 * (running) and the messages are marked delivered in one transaction before the node is asked, so
 * the turn's completion can never arrive before the row expects it; a retry resends the same turn.
 */
export async function deliverFollowupsStage(rt: Runtime, taskId: string, sessionId: string): Promise<{ turn: number } | typeof ENDED | typeof LOST> {
  const stage = await openStage(rt, taskId, { session: sessionId });
  if (stage === ENDED) return ENDED;
  if (stage.lost) return LOST;
  const { task, workspace } = stage;

  const turn = await rt.db.transaction(async (tx) => {
    const next = await beginNextTurn(tx, sessionId);
    if (!next.begun) return next.turn; // delivered already; this is a retry
    await deliverQueuedMessages(tx, taskId, next.turn);
    await tx.update(tasks).set({ executionStep: "running", idleUntil: null, updatedAt: sql`now()` }).where(eq(tasks.id, taskId));
    await publishTaskChange(tx, taskId, "message");
    return next.turn;
  });
  const messages = await turnMessages(rt.db, taskId, turn);
  const callbackToken = await signWorkspaceCallbackToken(rt.keys, { workspaceId: workspace.id }, rt.config.CALLBACK_TOKEN_TTL);
  const secrets = await sessionSecrets(keySource(rt), task.userId, task.agent as AgentKind, task.repository);
  const sent = await stage.call((client) => client.promptAgentSession(workspace.id, sessionId, { prompt: messages.join("\n\n"), callbackToken, secrets, turn, forgeHosts: forgeHosts(rt.config.GITHUB_URL) }));
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
