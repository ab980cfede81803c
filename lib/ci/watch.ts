/**
 * Looking at a pushed commit's CI on its forge: every check run and commit status reduced to one
 * verdict (lib/contracts/ci.ts), and for a failure the end of each failing job's log (GitHub's
 * job-logs API; a check run from another app or a status gives its own summary instead). The
 * newest look is kept on the turn that pushed the commit (task_turns.ci), for the page and as
 * evidence, and is what the CI rounds (./rounds.ts) decide from.
 */
import { and, eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { tasks, taskTurns } from "@/db/schema";
import type { Config } from "../config";
import { ciVerdict, TurnCi, type CiCheck } from "../contracts/ci";
import type { KeyRing } from "../envelope";
import { ForgeError, type Forge } from "../forge/forge";
import { githubForgeFactory } from "../forge/github";
import { forgeRepositoryOf, type ForgeRepository } from "../forge-target";
import { publishTaskChange } from "../live/publish";
import { secretValues } from "../secrets/store";

export type CiSource = { db: Executor; secrets: KeyRing; config: Config; makeForge?: (repository: ForgeRepository, token: string) => Forge };

/** A look's answer: the verdict (kept on the turn), or why there is none this time. */
export type CiLook = { kind: "looked"; ci: TurnCi } | { kind: "unreadable"; transient: boolean; message: string };

/** How much of a failing job's log the agent is shown: its last lines, where the error usually is. */
export const CI_LOG_LINES = 60;
/** Failing checks whose logs are read for one excerpt; the rest are named. */
const EXCERPTED_CHECKS = 3;
const EXCERPT_MAX = 16_000;

// GitHub Actions stamps every log line with an ISO time; ANSI colours come through as they were printed.
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z ?/;
// eslint-disable-next-line no-control-regex -- the escape sequences are what is removed
const ANSI = /\u001b\[[0-9;]*[A-Za-z]/g;

/** The end of a job's log as a person would read it: no timestamps, no colour codes, the last `lines`. */
export function logTail(log: string, lines = CI_LOG_LINES): string {
  const clean = log
    .replace(/\r\n?/g, "\n")
    .split("\n")
    .map((line) => line.replace(TIMESTAMP, "").replace(ANSI, ""));
  while (clean.length && !clean[clean.length - 1]!.trim()) clean.pop();
  return clean.slice(-lines).join("\n");
}

/** The failing checks' story for the agent and the page: each one's name, how it ended, and its log's end (or its own summary). */
async function failureExcerpt(forge: Forge, checks: readonly CiCheck[]): Promise<string> {
  const failed = checks.filter((c) => c.state === "failed");
  const parts = await Promise.all(
    failed.slice(0, EXCERPTED_CHECKS).map(async (check) => {
      const head = `${check.name} (${check.conclusion ?? "failed"})${check.url ? ` ${check.url}` : ""}`;
      let body = check.summary ?? "";
      if (check.jobId !== null) {
        try {
          body = logTail(await forge.jobLog(check.jobId));
        } catch (error) {
          body = [check.summary, `(its log could not be read: ${(error as Error).message})`].filter(Boolean).join("\n");
        }
      }
      return body ? `${head}\n${body}` : head;
    }),
  );
  const more = failed.length > EXCERPTED_CHECKS ? [`… and ${failed.length - EXCERPTED_CHECKS} more failing: ${failed.slice(EXCERPTED_CHECKS).map((c) => c.name).join(", ")}`] : [];
  const text = [...parts, ...more].join("\n\n");
  return text.length > EXCERPT_MAX ? `…${text.slice(-(EXCERPT_MAX - 1))}` : text;
}

/** The forge the task's repository is on, with its owner's token; a string says why there is none. */
async function taskForge(source: CiSource, task: { userId: string; repository: string }): Promise<Forge | string> {
  const repository = forgeRepositoryOf(task.repository, source.config.GITHUB_URL);
  if (!repository) return "the repository is not on a forge";
  const { GITHUB_TOKEN: token } = await secretValues(source.db, source.secrets, task.userId, ["GITHUB_TOKEN"]);
  if (!token) return "no GITHUB_TOKEN to read CI with";
  return (source.makeForge ?? githubForgeFactory(source.config))(repository, token);
}

/** Keeps a look on the turn that pushed the commit, and tells the page. */
export async function recordCi(db: Executor, taskId: string, sessionId: string, turn: number, ci: TurnCi) {
  await db.update(taskTurns).set({ ci }).where(and(eq(taskTurns.sessionId, sessionId), eq(taskTurns.turn, turn)));
  await publishTaskChange(db, taskId, "result");
}

/** The turn's CI as last looked at; undefined before any look. */
export async function turnCi(db: Executor, sessionId: string, turn: number): Promise<TurnCi | undefined> {
  const [row] = await db.select({ ci: taskTurns.ci }).from(taskTurns).where(and(eq(taskTurns.sessionId, sessionId), eq(taskTurns.turn, turn)));
  const parsed = row?.ci ? TurnCi.safeParse(row.ci) : undefined;
  return parsed?.success ? parsed.data : undefined;
}

/**
 * Looks at `commit`'s CI now and keeps what it saw on the turn. The log of a failure is read once
 * per commit: a look that finds the same failing checks keeps the excerpt it has. No checks at all
 * counts as pending until `noChecksPendingUntil`.
 */
export async function lookAtCi(source: CiSource, input: { taskId: string; sessionId: string; turn: number; commit: string; now?: Date; noChecksPendingUntil?: Date }): Promise<CiLook> {
  const [task] = await source.db.select({ userId: tasks.userId, repository: tasks.repository, baseBranch: tasks.baseBranch }).from(tasks).where(eq(tasks.id, input.taskId));
  if (!task) return { kind: "unreadable", transient: false, message: "the task is gone" };
  const forge = await taskForge(source, task);
  if (typeof forge === "string") return { kind: "unreadable", transient: false, message: forge };
  let checks: CiCheck[];
  try {
    checks = await forge.commitChecks(input.commit);
  } catch (error) {
    const failure = error instanceof ForgeError ? error : new ForgeError("unavailable", (error as Error).message);
    return { kind: "unreadable", transient: failure.transient, message: failure.message };
  }
  const now = input.now ?? new Date();
  const verdict = ciVerdict(checks);
  // No checks yet, shortly after the push: CI may not have queued its runs yet, unless the branch it
  // started from has no CI either (a repository without any: nothing to wait for).
  const state = verdict === "none" && input.noChecksPendingUntil && now < input.noChecksPendingUntil && (await baseHasCi(forge, task.baseBranch)) ? "pending" : verdict;
  const before = await turnCi(source.db, input.sessionId, input.turn);
  const sameFailure = before?.state === "failed" && before.headCommit === input.commit && sameFailingChecks(before.checks, checks);
  const excerpt = state !== "failed" ? null : sameFailure ? before.excerpt : await failureExcerpt(forge, checks);
  const ci: TurnCi = { headCommit: input.commit, state, checks: checks.slice(0, 200), checkedAt: now.toISOString(), excerpt, unwatched: null, error: null };
  await recordCi(source.db, input.taskId, input.sessionId, input.turn, ci);
  return { kind: "looked", ci };
}

/** Whether the base branch's newest commit has any CI: the sign that the repository runs CI at all. */
async function baseHasCi(forge: Forge, baseBranch: string | null): Promise<boolean> {
  if (!baseBranch) return true;
  try {
    return (await forge.commitChecks(baseBranch)).length > 0;
  } catch {
    // Unknown: wait out the grace rather than call it "no CI" too early.
    return true;
  }
}

const failingNames = (checks: readonly CiCheck[]) => checks.filter((c) => c.state === "failed").map((c) => `${c.kind}:${c.name}:${c.conclusion}`).sort().join("\n");
const sameFailingChecks = (a: readonly CiCheck[], b: readonly CiCheck[]) => failingNames(a) === failingNames(b);
