/**
 * After a turn that pushed to an open pull request, the run watches the commit's CI before it waits
 * for a follow-up (`awaiting_ci`): it looks with durable sleeps between looks (the wait's slices,
 * CI_POLL_INTERVAL doubling up to CI_POLL_MAX) or as soon as a webhook says CI changed, until
 * CI_WAIT_TIMEOUT. A failure goes back to the agent as a follow-up written by the system
 * (lib/ci/rounds.ts); a person's follow-up or "finish" ends the watch at once. Nothing is watched
 * when the turn's own checks failed: those go back to the agent first.
 */
import { desc, eq } from "drizzle-orm";
import { taskTurns } from "@/db/schema";
import { TurnChecks } from "../contracts/checks";
import type { CiState } from "../contracts/ci";
import { OPEN_PULL_REQUEST_STATES } from "../contracts/statuses";
import { queueCiFollowup, taskCi } from "../ci/rounds";
import { lookAtCi, recordCi, turnCi } from "../ci/watch";
import { getPullRequest } from "../forge/pull-requests";
import type { Runtime } from "../runtime";
import { hasQueuedMessages } from "../tasks/messages";
import { finishStep, startStep } from "../tasks/timeline";
import { ENDED, openStage, PENDING } from "./stage";

/** `since`: when the watch began (ISO), which CI_START_GRACE counts from. */
export type CiWatch = { watch: true; turn: number; commit: string; since: string } | { watch: false; why: string };

/** What the wait for CI found: a verdict, or a person's follow-up or "finish" that ends it first. */
export type CiSeen = Exclude<CiState, "pending"> | "deliver" | "finish";

/** What the run does after the watch: deliver the queued follow-up now, finish, or go on to wait for the person. */
export type CiNext = "deliver" | "finish" | "go-on";

const short = (sha: string) => sha.slice(0, 12);

/** Whether to watch the session's newest turn's CI, and if so, starts the `awaiting_ci` step. */
export async function ciWatchStage(rt: Runtime, taskId: string, sessionId: string): Promise<CiWatch | typeof ENDED> {
  if (!rt.config.CI_WATCH) return { watch: false, why: "CI_WATCH is off" };
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return ENDED;
  const { task } = stage;
  if (task.budgetPausedAt) return { watch: false, why: "a budget holds the task: no CI round starts" };
  const [turn] = await rt.db.select().from(taskTurns).where(eq(taskTurns.sessionId, sessionId)).orderBy(desc(taskTurns.turn)).limit(1);
  if (!turn?.pushed || !turn.commitSha) return { watch: false, why: "the turn pushed nothing" };
  const checks = turn.checks ? TurnChecks.safeParse(turn.checks) : undefined;
  if (checks?.success && !checks.data.passed) return { watch: false, why: "the turn's checks failed" };
  const pull = await getPullRequest(rt.db, taskId);
  if (!pull?.number || !pull.state || !OPEN_PULL_REQUEST_STATES.includes(pull.state)) return { watch: false, why: "no open pull request" };

  // A re-driven run looks again at what an earlier one saw; a new commit starts from nothing.
  const seen = await turnCi(rt.db, sessionId, turn.turn);
  if (seen?.headCommit !== turn.commitSha) {
    await recordCi(rt.db, taskId, sessionId, turn.turn, { headCommit: turn.commitSha, state: "pending", checks: [], checkedAt: new Date().toISOString(), excerpt: null, unwatched: null, error: null });
  }
  await startStep(rt.db, taskId, "awaiting_ci", { restart: true, detail: `watching CI on commit ${short(turn.commitSha)}` });
  return { watch: true, turn: turn.turn, commit: turn.commitSha, since: new Date().toISOString() };
}

/** One look for the wait: a person's follow-up or "finish" first (no forge call), then the forge's verdict. */
export async function ciReadiness(rt: Runtime, taskId: string, sessionId: string, watch: { turn: number; commit: string; since: string }): Promise<CiSeen | typeof PENDING | typeof ENDED> {
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return ENDED;
  if (await hasQueuedMessages(rt.db, taskId)) return "deliver";
  if (stage.task.finishRequestedAt) return "finish";
  const look = await lookAtCi(
    { db: rt.db, secrets: rt.secrets, config: rt.config },
    { taskId, sessionId, turn: watch.turn, commit: watch.commit, noChecksPendingUntil: new Date(Date.parse(watch.since) + rt.config.CI_START_GRACE) },
  );
  if (look.kind === "looked") return look.ci.state === "pending" ? PENDING : look.ci.state;
  // GitHub down or rate-limited: look again at the next slice. Refused for good: there is nothing to wait for.
  if (look.transient) return PENDING;
  await recordCi(rt.db, taskId, sessionId, watch.turn, { headCommit: watch.commit, state: "none", checks: [], checkedAt: new Date().toISOString(), excerpt: null, unwatched: null, error: look.message.slice(0, 2_000) });
  return "none";
}

/** The watch is over: keeps why when CI still ran, queues the system's follow-up for a failure with rounds left, and says what the run does next. */
export async function ciEndStage(rt: Runtime, taskId: string, sessionId: string, watchedTurn: number, seen: CiSeen | "timeout"): Promise<CiNext | typeof ENDED> {
  const stage = await openStage(rt, taskId);
  if (stage === ENDED) return ENDED;
  const finishRequested = stage.task.finishRequestedAt !== null;
  const ci = await turnCi(rt.db, sessionId, watchedTurn);
  if (ci?.state === "pending") {
    await recordCi(rt.db, taskId, sessionId, watchedTurn, { ...ci, unwatched: seen === "deliver" ? "followup" : seen === "finish" ? "finish" : "timeout" });
  }
  const view = await rt.db.transaction((tx) =>
    seen === "failed" && !stage.task.budgetPausedAt
      ? queueCiFollowup(tx, { taskId, sessionId, maxRounds: rt.config.MAX_CI_ROUNDS, finishRequested })
      : taskCi(tx, taskId, sessionId, rt.config.MAX_CI_ROUNDS, finishRequested),
  );
  await finishStep(rt.db, taskId, "awaiting_ci", "succeeded", view?.summary);
  if (seen === "finish") return "finish";
  if (seen === "deliver" || view?.state === "fixing") return (await hasQueuedMessages(rt.db, taskId)) ? "deliver" : "go-on";
  return "go-on";
}
