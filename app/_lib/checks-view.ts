/** The task's checks in words for its Checks card (the API says the summary; the rest is said here). */
import type { TaskChecksView } from "@/lib/contracts/api";
import type { CheckSource } from "@/lib/contracts/checks";

/** Where the checks came from, as a reader knows them. */
export const CHECK_SOURCE_LABEL: Record<CheckSource, string> = {
  task: "the task's own checks",
  ".agent/checks.sh": ".agent/checks.sh",
  "package.json": "package.json test script",
  none: "none declared",
};

/** "checks passed (round 2)" → "Checks passed (round 2)": the API's summary opens the card's sentence. */
export const summarySentence = (summary: string) => summary.charAt(0).toUpperCase() + summary.slice(1);

/** "2 of 3": the round among those the system gives the agent before it waits for the person. */
export const roundText = (checks: Pick<TaskChecksView, "round" | "maxRounds">) => `${checks.round} of ${Math.max(checks.round, checks.maxRounds)}`;

/** A command's result failed: it exited other than 0, was killed, or never ran. */
export const commandFailed = (command: { exitCode: number | null; timedOut: boolean }) => command.exitCode !== 0 || command.timedOut;
