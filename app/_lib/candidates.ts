/**
 * Best of N on the pages: a candidate's evidence in words, whether it can be picked, what the pick
 * did to the others, and how a submission of several candidates is listed.
 */
import { TaskSummary, type CandidateView, type TaskGroupView } from "@/lib/contracts/api";
import { summarySentence } from "./checks-view";
import { formatUsd } from "./usage-format";

/** The attempts a submission may have (the contract's 1–4). */
export const ATTEMPT_CHOICES = [1, 2, 3, 4] as const;

/** A candidate beside the others: the one picked, one passed over once another was, or still open to the pick. */
export type CandidateStanding = "picked" | "passed-over" | "open";

export function candidateStanding(group: Pick<TaskGroupView, "pickedTaskId">, candidate: Pick<CandidateView, "taskId">): CandidateStanding {
  if (group.pickedTaskId === null) return "open";
  return group.pickedTaskId === candidate.taskId ? "picked" : "passed-over";
}

const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "3 files, +12 −4" (a true minus sign); "no diff yet" before a turn reported one. */
export function diffSizeText(diff: CandidateView["diff"]): string {
  if (!diff) return "no diff yet";
  return `${count(diff.files, "file", "files")}, +${diff.added} \u2212${diff.removed}`;
}

/** "$0.42"; "—" before an agent reported usage. */
export const candidateCostText = (costUsd: number | null) => (costUsd === null ? "—" : formatUsd(costUsd));

/** Its checks as the Checks card says them ("Checks passed (round 1)"), or why there is nothing yet. */
export function candidateChecksText(candidate: Pick<CandidateView, "checks" | "status">): string {
  if (candidate.checks) return summarySentence(candidate.checks.summary);
  return candidate.status === "completed" || candidate.status === "failed" || candidate.status === "cancelled" ? "No checks ran" : "Checks not run yet";
}

/** Why a candidate cannot be picked (undefined: it can, or the pick was made). Only completed work with a commit is picked. */
export function pickBlocker(group: Pick<TaskGroupView, "pickedTaskId">, candidate: Pick<CandidateView, "status" | "commit">): string | undefined {
  if (group.pickedTaskId !== null) return undefined;
  switch (candidate.status) {
    case "completed":
      return candidate.commit ? undefined : "It made no commit to pick";
    case "failed":
      return "It failed: nothing to pick";
    case "cancelled":
      return "It was cancelled";
    default:
      return "It is still working";
  }
}

export const canPick = (group: Pick<TaskGroupView, "pickedTaskId">, candidate: Pick<CandidateView, "status" | "commit">) =>
  group.pickedTaskId === null && pickBlocker(group, candidate) === undefined;

/** After the pick: which one, and what became of the others' branches. Undefined before it. */
export function pickOutcomeText(group: Pick<TaskGroupView, "candidates" | "pickedTaskId" | "otherBranches">): string | undefined {
  const picked = group.candidates.find((c) => c.taskId === group.pickedTaskId);
  if (!picked) return undefined;
  const others = group.candidates.length - 1;
  const branches = others === 1 ? "The other candidate's branch was" : `The other ${others} candidates' branches were`;
  const stays = others === 1 ? "it stays" : "they stay";
  const fate = group.otherBranches === "deleted" ? "deleted" : `kept: ${stays} in the repository`;
  return `Candidate ${picked.candidate} was picked: its branch is the task's work. ${branches} ${fate}.`;
}

/** The list row's words for a submission of several candidates: "best of 3". */
export const bestOfText = (size: number) => `best of ${size}`;

/**
 * This task as the list shows it, from its page's live state: a submission is listed once, as its
 * first candidate with how many it has; another candidate is not listed (undefined).
 */
export function listedSummary(task: TaskSummary & { group: Pick<TaskGroupView, "id" | "size"> | null }): TaskSummary | undefined {
  const summary = TaskSummary.parse(task);
  if (!task.group) return summary;
  return task.group.id === task.id ? { ...summary, candidates: task.group.size } : undefined;
}

/** The form's hint under Attempts: what one means, what more do. */
export function attemptsHint(attempts: number): string {
  if (attempts <= 1) return "One agent works on it. With more, they work side by side, each on its own branch, and you pick one.";
  return `${attempts} agents work side by side, each on its own branch with its own checks and the whole budget; you pick one for the pull request.`;
}
