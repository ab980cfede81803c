/**
 * CI rounds: a turn whose pushed commit failed its pull request's CI gets a follow-up written by
 * the system (author `ci`: the failing checks and the end of their logs), delivered as the next
 * turn like any follow-up, up to MAX_CI_ROUNDS rounds in a row; then the task waits for the person.
 * A person's own follow-up starts the count again (lib/checks/rounds.ts systemRound).
 */
import { and, desc, eq, isNotNull } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { taskTurns } from "@/db/schema";
import type { TaskCiView } from "../contracts/api";
import { TurnCi } from "../contracts/ci";
import { queueSystemFollowup, systemRound } from "../checks/rounds";

const short = (sha: string) => sha.slice(0, 12);
const UNWATCHED = { timeout: "still running at CI_WAIT_TIMEOUT", followup: "a follow-up came first", finish: "the task was finished" } as const;

/** `settled`: no more rounds come (the task ended, or the person asked to finish). */
function describe(ci: TurnCi, round: number, maxRounds: number, settled: boolean): Pick<TaskCiView, "state" | "summary"> {
  const failing = ci.checks.filter((c) => c.state === "failed").length;
  if (ci.state === "none") return { state: "none", summary: ci.error ? `CI could not be read: ${ci.error}` : `no CI on commit ${short(ci.headCommit)}` };
  if (ci.state === "passed") return { state: "passed", summary: `CI passed (round ${round})` };
  if (ci.state === "pending") {
    if (ci.unwatched) return { state: "unwatched", summary: `CI not waited for on commit ${short(ci.headCommit)}: ${UNWATCHED[ci.unwatched]}` };
    if (!ci.checks.length) return { state: "pending", summary: `waiting for CI to start on commit ${short(ci.headCommit)}` };
    const running = ci.checks.filter((c) => c.state === "pending").length;
    return { state: "pending", summary: `CI running on commit ${short(ci.headCommit)} (${running} of ${ci.checks.length} checks)` };
  }
  if (round >= maxRounds || settled) return { state: "failing", summary: `CI failing after ${round} round${round === 1 ? "" : "s"} (${failing} failing)` };
  return { state: "fixing", summary: `CI failed (round ${round} of ${maxRounds}): the agent was asked to fix it` };
}

/** The session's newest turn whose CI was looked at. */
async function newestWatchedTurn(executor: Executor, sessionId: string) {
  const [row] = await executor
    .select({ turn: taskTurns.turn, ci: taskTurns.ci })
    .from(taskTurns)
    .where(and(eq(taskTurns.sessionId, sessionId), isNotNull(taskTurns.ci)))
    .orderBy(desc(taskTurns.turn))
    .limit(1);
  const ci = row && TurnCi.safeParse(row.ci);
  return row && ci?.success ? { turn: row.turn, ci: ci.data } : undefined;
}

/** The task's CI as of the session's newest watched turn; undefined before any was. */
export async function taskCi(executor: Executor, taskId: string, sessionId: string | undefined, maxRounds: number, settled = false): Promise<TaskCiView | undefined> {
  const newest = sessionId && (await newestWatchedTurn(executor, sessionId));
  if (!newest) return undefined;
  const round = await systemRound(executor, taskId, newest.turn, "ci");
  return { turn: newest.turn, round, maxRounds, ...describe(newest.ci, round, maxRounds, settled), result: newest.ci };
}

/** The follow-up the system writes for a failed round: which checks failed and how their logs end. */
export function ciFollowup(ci: TurnCi, round: number, maxRounds: number): string {
  const failed = ci.checks.filter((c) => c.state === "failed").map((c) => c.name);
  return [
    `The pull request's CI failed on commit ${short(ci.headCommit)} (round ${round} of ${maxRounds}): ${failed.join(", ")}. Find the cause and fix it so that CI passes; do not weaken, skip or disable the checks.`,
    ...(ci.excerpt ? ["```\n" + ci.excerpt + "\n```"] : []),
  ].join("\n\n");
}

/**
 * After CI failed on a turn's commit: when rounds are left, queues the system's follow-up (once per
 * turn: its client id is the turn's) unless the person asked to finish. Returns the view.
 */
export async function queueCiFollowup(tx: Executor, input: { taskId: string; sessionId: string; maxRounds: number; finishRequested: boolean }): Promise<TaskCiView | undefined> {
  const view = await taskCi(tx, input.taskId, input.sessionId, input.maxRounds, input.finishRequested);
  if (!view || view.state !== "fixing") return view;
  await queueSystemFollowup(tx, { taskId: input.taskId, clientId: `ci-${input.sessionId}-t${view.turn}`, author: "ci", body: ciFollowup(view.result, view.round, input.maxRounds) });
  return view;
}
