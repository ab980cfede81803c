/**
 * The pull request's CI, as the forge reports it for the commit a turn pushed: each check run and
 * commit status, their verdict together, and for a failing one an excerpt of its log. A turn's row
 * keeps the newest look (task_turns.ci); a failed verdict becomes a follow-up written by the
 * system (author `ci`) up to MAX_CI_ROUNDS rounds in a row (lib/ci/).
 */
import { z } from "zod";

/** One check run (GitHub Actions jobs and apps) or commit status (older integrations), reduced to a verdict. */
export const CiCheck = z.object({
  kind: z.enum(["check_run", "status"]),
  name: z.string().max(500),
  /** `pending`: queued or in progress; `passed`: success, neutral or skipped; `failed`: anything else that ended. */
  state: z.enum(["pending", "passed", "failed"]),
  /** The forge's own word for how it ended (`failure`, `timed_out`, `error`, …); null while pending. */
  conclusion: z.string().max(100).nullable(),
  /** Where a person reads it on the forge. */
  url: z.string().max(2_000).nullable(),
  /** Its GitHub Actions job, whose log the job-logs API serves; null for other apps and statuses. */
  jobId: z.number().int().nullable(),
  /** What it said about itself (a check run's output title and summary, a status's description). */
  summary: z.string().max(2_000).nullable(),
});
export type CiCheck = z.infer<typeof CiCheck>;

/** The verdict of all of a commit's checks: `none` when the forge has none for it (no CI configured). */
export const CI_STATES = ["pending", "passed", "failed", "none"] as const;
export type CiState = (typeof CI_STATES)[number];

/** The newest look at a pushed commit's CI. */
export const TurnCi = z.object({
  headCommit: z.string().max(64),
  state: z.enum(CI_STATES),
  checks: z.array(CiCheck).max(200),
  checkedAt: z.string(),
  /** The end of each failing check's log (or its summary), as the agent was shown it. */
  excerpt: z.string().max(20_000).nullable(),
  /** Why the run stopped looking while checks were still pending: CI_WAIT_TIMEOUT, a follow-up came first, or the person finished the task. */
  unwatched: z.enum(["timeout", "followup", "finish"]).nullable().default(null),
  /** Why the forge would not show the commit's CI (a token without the checks permission); then `state` is `none`. */
  error: z.string().max(2_000).nullable().default(null),
});
export type TurnCi = z.infer<typeof TurnCi>;

/** The verdict of a set of checks: any failed fails it; else any pending keeps it pending; none at all is `none`. */
export function ciVerdict(checks: readonly Pick<CiCheck, "state">[]): CiState {
  if (!checks.length) return "none";
  if (checks.some((c) => c.state === "failed")) return "failed";
  if (checks.some((c) => c.state === "pending")) return "pending";
  return "passed";
}
