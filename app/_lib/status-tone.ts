/**
 * Statuses map to tones here, never in class names: a pill or badge carries `data-tone` (and
 * `data-pulse` while something is moving, `data-hollow` for an ended-without-result look), and
 * globals.css colours a tone. No stylesheet names a task, node, step or tool status.
 */
import type { ErrorKind, NodeHealth, NodeStatus, PullRequestView, TaskChecksView, TaskCiView, TaskStatus, TaskStepView, TaskUsageView } from "@/lib/contracts/api";
import type { CiCheck } from "@/lib/contracts/ci";
import type { ToolStatus } from "./agent-output";
import type { BudgetLevel } from "./budget";
import type { CandidateStanding } from "./candidates";
import type { CheckRunState } from "./check-blocks";

/** neutral grey, info blue, active and warn amber, good green, bad red, quiet slate, idle teal, notable violet. */
export type Tone = "neutral" | "info" | "active" | "warn" | "good" | "bad" | "quiet" | "idle" | "notable";

/** How a status pill looks: its tone, whether its dot pulses (work under way), whether the dot is hollow. */
export type PillLook = { tone: Tone; pulse?: true; hollow?: true };

export const TASK_STATUS_LOOK: Record<TaskStatus, PillLook> = {
  draft: { tone: "neutral" },
  ready: { tone: "neutral" },
  queued: { tone: "neutral" },
  delegated: { tone: "info" },
  in_progress: { tone: "active", pulse: true },
  completed: { tone: "good" },
  failed: { tone: "bad" },
  cancelled: { tone: "quiet", hollow: true },
};

/** A running node with no work is warm (idle), told apart from a busy one. */
export function nodeStatusLook(status: NodeStatus, warm: boolean): PillLook {
  if (status === "running" && warm) return { tone: "idle" };
  return NODE_STATUS_LOOK[status];
}

const NODE_STATUS_LOOK: Record<NodeStatus, PillLook> = {
  pending: { tone: "info", pulse: true },
  creating: { tone: "info", pulse: true },
  running: { tone: "good" },
  stopping: { tone: "warn", pulse: true },
  stopped: { tone: "quiet" },
  error: { tone: "bad" },
};

export const STEP_STATUS_TONE: Record<TaskStepView["status"], Tone> = { running: "active", succeeded: "good", failed: "bad", skipped: "quiet" };

export const TOOL_STATUS_TONE: Record<ToolStatus, Tone> = { running: "info", ok: "good", failed: "bad" };

export const NODE_HEALTH_TONE: Record<NodeHealth, Tone> = { unknown: "neutral", healthy: "good", stale: "warn", restarting: "active", unhealthy: "bad" };

export const ERROR_KIND_TONE: Record<ErrorKind, Tone> = { failure: "bad", recovery: "info", stuck: "warn", orphan: "notable", cleanup: "quiet" };

export const PULL_REQUEST_TONE: Record<NonNullable<PullRequestView["state"]>, Tone> = { draft: "neutral", open: "good", merged: "notable", closed: "bad" };

/** Where a turn's cost came from: the CLI's own figure, the price table, or nowhere (no price: the total is incomplete). */
export const COST_SOURCE_TONE: Record<NonNullable<TaskUsageView["turns"][number]["costSource"]> | "none", Tone> = { agent: "neutral", "price-table": "info", estimate: "warn", none: "warn" };

/** The task's checks: passed, being fixed by the agent, failing after the last round, or none declared. */
export const CHECKS_STATE_TONE: Record<TaskChecksView["state"], Tone> = { passed: "good", fixing: "warn", failing: "bad", none: "quiet" };

/** The pull request's CI: running (its dot pulses), passed, being fixed by the agent, failing after the last round, none on the commit, or no longer watched. */
export const CI_STATE_LOOK: Record<TaskCiView["state"], PillLook> = {
  pending: { tone: "info", pulse: true },
  passed: { tone: "good" },
  fixing: { tone: "warn" },
  failing: { tone: "bad" },
  none: { tone: "quiet" },
  unwatched: { tone: "quiet", hollow: true },
};

/** One of its checks: still running, passed (success, neutral, skipped) or failed. */
export const CI_CHECK_TONE: Record<CiCheck["state"], Tone> = { pending: "info", passed: "good", failed: "bad" };

/** One check command: running (no end marker yet), passed (exit 0), failed, or ended without a result. */
export const CHECK_RUN_TONE: Record<CheckRunState, Tone> = { running: "info", passed: "good", failed: "bad", unknown: "quiet" };

/** Spend against a budget: no limit, under it, near it (from 80 %), at it or held by it. */
export const BUDGET_LEVEL_TONE: Record<BudgetLevel, Tone> = { none: "quiet", ok: "info", near: "warn", reached: "bad" };

/** Best of N: the candidate picked, one passed over (dimmed), or one still open to the pick. */
export const CANDIDATE_STANDING_TONE: Record<CandidateStanding, Tone> = { picked: "good", "passed-over": "quiet", open: "neutral" };

/** A candidate's checks as the Checks card tones them; none yet is quiet. */
export const candidateChecksTone = (checks: { state: TaskChecksView["state"] } | null): Tone => (checks ? CHECKS_STATE_TONE[checks.state] : "quiet");

/** The attributes a pill's element takes for a look (`data-pulse` / `data-hollow` only when set). */
export function pillAttributes(look: PillLook) {
  return { "data-tone": look.tone, "data-pulse": look.pulse, "data-hollow": look.hollow };
}
