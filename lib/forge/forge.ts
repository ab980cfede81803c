/**
 * What the control plane needs of a forge (GitHub first): one pull request per task branch, opened
 * as a draft, found again by its branch, updated, read. Errors are classified once here, so the
 * pull-request owner decides from a kind, never from one forge's status codes.
 */
import type { PullRequestState } from "../contracts/statuses";
import type { CiCheck } from "../contracts/ci";

export type { PullRequestState };

export type PullRequestView = { number: number; url: string; state: PullRequestState; headCommit: string };

export type NewPullRequest = { head: string; base: string; title: string; body: string; draft: boolean };

export interface Forge {
  readonly name: "github";
  open(input: NewPullRequest): Promise<PullRequestView>;
  /** The newest pull request (of any state) whose head is `branch` in the same repository. */
  findByBranch(branch: string): Promise<PullRequestView | undefined>;
  update(number: number, change: { body: string }): Promise<PullRequestView>;
  get(number: number): Promise<PullRequestView>;
  /** Marks an open pull request a draft, or ready for review; a merged or closed one is answered as it is. */
  setDraft(number: number, draft: boolean): Promise<PullRequestView>;
  /** Deletes a branch (the task's others, after best of N); one that is not there is no error. */
  deleteBranch(branch: string): Promise<void>;
  /** A commit's CI: its check runs (the latest of each name) and its commit statuses, each reduced to a verdict. */
  commitChecks(sha: string): Promise<CiCheck[]>;
  /** The log of a CI job (a GitHub Actions job), as plain text. */
  jobLog(jobId: number): Promise<string>;
  /** The repository's branches (the first MAX_LISTED_BRANCHES) and its default branch. */
  listBranches(): Promise<RepositoryBranches>;
}

export type RepositoryBranches = { branches: string[]; defaultBranch: string | null; truncated: boolean };

/** A submit form lists this many branches at most. */
export const MAX_LISTED_BRANCHES = 300;

/**
 * `exists`: a pull request for the branch is already open. `rate_limited` and `unavailable` (5xx,
 * no answer) are worth trying again (`retryAt` when the forge said when); the rest are permanent.
 */
export type ForgeErrorKind = "unauthorized" | "forbidden" | "not_found" | "invalid" | "exists" | "rate_limited" | "unavailable";

export class ForgeError extends Error {
  override readonly name = "ForgeError";
  constructor(
    readonly kind: ForgeErrorKind,
    message: string,
    readonly status?: number,
    readonly retryAt?: Date,
  ) {
    super(message);
  }

  get transient() {
    return this.kind === "rate_limited" || this.kind === "unavailable";
  }
}
