/**
 * "Done only with evidence": after each turn the node runs the repository's checks
 * (vm-agent/checks.ts) and the turn's row keeps their result. A turn whose checks failed gets a
 * follow-up written by the system (the failing commands and the end of their output), which the
 * run delivers as the next turn like any follow-up, up to MAX_CHECK_ROUNDS rounds in a row; then
 * the task waits for the person. A person's own follow-up starts the count again.
 */
import { and, desc, eq, isNotNull } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { taskMessages, taskTurns } from "@/db/schema";
import type { TaskChecksView } from "../contracts/api";
import { checkOutcome, TurnChecks, type CheckCommandResult } from "../contracts/checks";
import { publishTaskChange } from "../live/publish";
import type { TaskMessageAuthor } from "../contracts/statuses";

/** How much of each failing command's output a follow-up quotes. */
const QUOTED_LINES = 40;

/**
 * Which round of `author`'s fixing `turn` is: 1, plus one for each turn before it in the unbroken
 * run of turns the system prompted (for failed checks or CI, no person's message among them) that
 * `author` prompted. Counting over both kinds bounds the run: checks and CI cannot hand the agent
 * back and forth for ever, each restarting the other's count.
 */
export async function systemRound(executor: Executor, taskId: string, turn: number, author: Exclude<TaskMessageAuthor, "person">): Promise<number> {
  const messages = await executor.select({ turn: taskMessages.turn, author: taskMessages.author }).from(taskMessages).where(and(eq(taskMessages.taskId, taskId), isNotNull(taskMessages.turn)));
  const byPerson = new Set(messages.filter((m) => m.author === "person").map((m) => m.turn));
  const bySystem = new Map(messages.filter((m) => m.author !== "person").map((m) => [m.turn, m.author]));
  let round = 1;
  for (let t = turn; bySystem.has(t) && !byPerson.has(t); t--) if (bySystem.get(t) === author) round++;
  return round;
}

/** The newest turn of the session whose checks ran, with its round: 1, plus one per turn before it in a row that the system prompted. */
async function newestCheckedTurn(executor: Executor, taskId: string, sessionId: string) {
  const [row] = await executor
    .select({ turn: taskTurns.turn, checks: taskTurns.checks })
    .from(taskTurns)
    .where(and(eq(taskTurns.sessionId, sessionId), isNotNull(taskTurns.checks)))
    .orderBy(desc(taskTurns.turn))
    .limit(1);
  const checks = row && TurnChecks.safeParse(row.checks);
  if (!row || !checks?.success) return undefined;
  const round = await systemRound(executor, taskId, row.turn, "checks");
  return { turn: row.turn, checks: checks.data, round };
}

/** `settled`: no more rounds come (the task ended, or the person asked to finish). */
function describe(turn: { checks: TurnChecks; round: number }, maxRounds: number, settled: boolean): Pick<TaskChecksView, "state" | "summary"> {
  const { checks, round } = turn;
  if (checks.source === "none" && checks.commands.length === 0 && !checks.error) return { state: "none", summary: "no checks declared (add .agent/checks.sh or a test script)" };
  if (checks.passed) return { state: "passed", summary: `checks passed (round ${round})` };
  if (round >= maxRounds || settled) return { state: "failing", summary: `checks failing after ${round} round${round === 1 ? "" : "s"}` };
  return { state: "fixing", summary: `checks failed (round ${round} of ${maxRounds}): the agent was asked to fix them` };
}

/** The task's newest turn's checks (any attempt), for its pull request; undefined before any ran. */
export async function newestTaskChecks(executor: Executor, taskId: string): Promise<TurnChecks | undefined> {
  const [row] = await executor.select({ checks: taskTurns.checks }).from(taskTurns).where(and(eq(taskTurns.taskId, taskId), isNotNull(taskTurns.checks))).orderBy(desc(taskTurns.id)).limit(1);
  const parsed = row && TurnChecks.safeParse(row.checks);
  return parsed?.success ? parsed.data : undefined;
}

/** The task's checks as of the session's newest turn that ran them; undefined before any did. */
export async function taskChecks(executor: Executor, taskId: string, sessionId: string | undefined, maxRounds: number, settled = false): Promise<TaskChecksView | undefined> {
  const newest = sessionId && (await newestCheckedTurn(executor, taskId, sessionId));
  if (!newest) return undefined;
  return { turn: newest.turn, round: newest.round, maxRounds, ...describe(newest, maxRounds, settled), result: newest.checks };
}

const quote = (command: CheckCommandResult) => {
  const how = checkOutcome(command);
  const tail = command.outputTail.split("\n").slice(-QUOTED_LINES).join("\n");
  return `$ ${command.command}   (${how}, ${(command.durationMs / 1000).toFixed(1)} s)\n${tail}`;
};

/** The follow-up the system writes for a failed round: what failed and how it ended. */
export function checksFollowup(checks: TurnChecks, round: number, maxRounds: number): string {
  const failed = checks.commands.filter((c) => c.exitCode !== 0);
  const parts = [
    `The repository's checks (${checks.source}) failed after your last turn (round ${round} of ${maxRounds}). Fix the cause so that they pass; do not weaken or skip the checks.`,
    ...(checks.error ? [checks.error] : []),
    ...failed.map((c) => "```\n" + quote(c) + "\n```"),
  ];
  return parts.join("\n\n");
}

/**
 * After a turn: when its checks failed and rounds are left, queues the system's follow-up (once per
 * turn: its client id is the turn's) unless the person asked to finish. Returns the view.
 */
export async function queueChecksFollowup(tx: Executor, input: { taskId: string; sessionId: string; maxRounds: number; finishRequested: boolean }): Promise<TaskChecksView | undefined> {
  const view = await taskChecks(tx, input.taskId, input.sessionId, input.maxRounds, input.finishRequested);
  if (!view || view.state !== "fixing") return view;
  await queueSystemFollowup(tx, { taskId: input.taskId, clientId: `checks-${input.sessionId}-t${view.turn}`, author: "checks", body: checksFollowup(view.result, view.round, input.maxRounds) });
  return view;
}

/** Queues a follow-up the system wrote, once: a second call with the same client id (a retried step) adds nothing. */
export async function queueSystemFollowup(tx: Executor, message: { taskId: string; clientId: string; author: Exclude<TaskMessageAuthor, "person">; body: string }) {
  const inserted = await tx.insert(taskMessages).values(message).onConflictDoNothing().returning({ id: taskMessages.id });
  if (inserted.length) await publishTaskChange(tx, message.taskId, "message");
}
