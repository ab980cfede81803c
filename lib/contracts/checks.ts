/**
 * A repository's own checks, run by the node after each turn's commit (vm-agent/checks.ts): where
 * they came from, each command's result, and the marker lines that frame each command's output in
 * the session's output stream, so the task page shows them live among the agent's lines. The
 * results in the completion callback are what counts; the lines are for reading.
 */
import { z } from "zod";
import { reportedText } from "./text";

/**
 * Where a turn's checks came from: the task's own list (given at submit), the repository's
 * `.agent/checks.sh`, its package.json `test` script, or nowhere (`none`: nothing was run).
 */
export const CHECK_SOURCES = ["task", ".agent/checks.sh", "package.json", "none"] as const;
export const CheckSource = z.enum(CHECK_SOURCES);
export type CheckSource = z.infer<typeof CheckSource>;

/** The task's own checks at submit: shell commands, run in order in the worktree. */
export const CheckCommands = z.array(z.string().trim().min(1, "must not be empty").max(2_000, "must be at most 2000 characters")).min(1).max(20, "at most 20 commands");

export const CheckCommandResult = z.object({
  command: reportedText(2_000),
  /** Null when it was killed (its timeout) or could not start. */
  exitCode: z.number().int().nullable(),
  durationMs: z.number().int().nonnegative(),
  timedOut: z.boolean(),
  /** The end of what it printed (stdout and stderr as they came). */
  outputTail: reportedText(8_000),
});
export type CheckCommandResult = z.infer<typeof CheckCommandResult>;

/** A turn's checks: `passed` when every command exited 0 (and trivially when there were none). */
export const TurnChecks = z.object({
  source: CheckSource,
  commands: z.array(CheckCommandResult).max(20),
  passed: z.boolean(),
  /** Why they could not be run at all (a package.json that is not JSON, …); then `passed` is false. */
  error: reportedText(2_000).optional(),
});
export type TurnChecks = z.infer<typeof TurnChecks>;

/** How a finished command went, in words: "exit 0", "exit 3", "killed: out of time", "not run" (it could not start). */
export function checkOutcome(end: Pick<CheckCommandResult, "exitCode" | "timedOut">): string {
  if (end.timedOut) return "killed: out of time";
  if (end.exitCode === null) return "not run";
  return `exit ${end.exitCode}`;
}

/** How much of a command's output its result keeps. */
export const CHECK_OUTPUT_TAIL = 4_000;

/** The line that opens or closes one command's output in the session's stream. */
export const CheckMarker = z.discriminatedUnion("phase", [
  z.object({ type: z.literal("acp.check"), phase: z.literal("start"), command: z.string(), source: CheckSource, index: z.number().int(), of: z.number().int() }),
  z.object({ type: z.literal("acp.check"), phase: z.literal("end"), command: z.string(), exitCode: z.number().int().nullable(), durationMs: z.number().int(), timedOut: z.boolean() }),
]);
export type CheckMarker = z.infer<typeof CheckMarker>;

export const checkMarkerLine = (marker: CheckMarker) => JSON.stringify(marker);

/** The marker a line is, or undefined for any other line. */
export function readCheckMarker(line: string): CheckMarker | undefined {
  if (!line.startsWith('{"type":"acp.check"')) return undefined;
  try {
    const parsed = CheckMarker.safeParse(JSON.parse(line));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
