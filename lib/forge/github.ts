/**
 * GitHub as a forge, over its REST API with Octokit (GITHUB_API_URL: GitHub Enterprise Server
 * too). Errors follow GitHub's documented behaviour: 401 bad credentials; 403 or 429 with
 * `x-ratelimit-remaining: 0` (primary limit, until `x-ratelimit-reset`) or `retry-after`
 * (secondary limit) is a rate limit, any other 403 a refusal; 422 with "A pull request already
 * exists" is `exists`; 5xx and no answer are `unavailable`.
 */
import { Octokit } from "@octokit/rest";
import { RequestError } from "@octokit/request-error";
import { ForgeError, MAX_LISTED_BRANCHES, type Forge, type NewPullRequest, type PullRequestState, type PullRequestView } from "./forge";
import type { ForgeRepository } from "../forge-target";
import type { CiCheck } from "../contracts/ci";

type GithubCheckRun = {
  id: number;
  name: string;
  status: string;
  conclusion: string | null;
  html_url: string | null;
  details_url?: string | null;
  output?: { title?: string | null; summary?: string | null };
  app?: { slug?: string } | null;
};
type GithubStatus = { state: string; context: string; description: string | null; target_url: string | null };

/** Conclusions that do not fail a commit (GitHub's own merge rules treat them as passing). */
const PASSING_CONCLUSIONS = new Set(["success", "neutral", "skipped"]);
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export function checkRunView(run: GithubCheckRun): CiCheck {
  const ended = run.status === "completed";
  const said = [run.output?.title, run.output?.summary].filter(Boolean).join(": ");
  return {
    kind: "check_run",
    name: cut(run.name, 500),
    state: !ended ? "pending" : PASSING_CONCLUSIONS.has(run.conclusion ?? "") ? "passed" : "failed",
    conclusion: ended ? (run.conclusion ?? "unknown") : null,
    url: run.html_url ?? run.details_url ?? null,
    // An Actions check run's id is its job's id, which the job-logs API takes.
    jobId: run.app?.slug === "github-actions" ? run.id : null,
    summary: said ? cut(said, 2_000) : null,
  };
}

export function statusView(status: GithubStatus): CiCheck {
  return {
    kind: "status",
    name: cut(status.context, 500),
    state: status.state === "pending" ? "pending" : status.state === "success" ? "passed" : "failed",
    conclusion: status.state === "pending" ? null : status.state,
    url: status.target_url,
    jobId: null,
    summary: status.description ? cut(status.description, 2_000) : null,
  };
}

type GithubPull = { number: number; node_id: string; html_url: string; state: string; draft?: boolean; merged_at: string | null; head: { sha: string } };

const view = (pull: GithubPull): PullRequestView => {
  const state: PullRequestState = pull.merged_at ? "merged" : pull.state === "closed" ? "closed" : pull.draft ? "draft" : "open";
  return { number: pull.number, url: pull.html_url, state, headCommit: pull.head.sha };
};

type ErrorBody = { message?: string; errors?: ({ message?: string; code?: string; field?: string } | string)[] };

/** GitHub's own words for a refusal: its message and each listed validation error. */
function describe(body: ErrorBody | undefined, fallback: string) {
  const details = (body?.errors ?? []).map((e) => (typeof e === "string" ? e : (e.message ?? [e.field, e.code].filter(Boolean).join(" ")))).filter(Boolean);
  return [body?.message ?? fallback, ...details].join(": ");
}

export function classify(error: unknown, now = Date.now()): ForgeError {
  if (error instanceof ForgeError) return error;
  // A GraphQL answer with errors comes as 200: GitHub understood and refused.
  if (error instanceof Error && error.name === "GraphqlResponseError") return new ForgeError("invalid", `GitHub refused: ${error.message}`);
  if (!(error instanceof RequestError)) return new ForgeError("unavailable", `GitHub did not answer: ${(error as Error)?.message ?? String(error)}`);
  const status = error.status;
  const headers = (error.response?.headers ?? {}) as Record<string, string | undefined>;
  const body = (typeof error.response?.data === "object" ? error.response.data : undefined) as ErrorBody | undefined;
  const said = describe(body, error.message);
  if (status === 401) return new ForgeError("unauthorized", `GitHub refused the token (401 ${said}): store a valid GITHUB_TOKEN in Settings → Secrets`, status);
  if (status === 403 || status === 429) {
    const retryAfter = Number(headers["retry-after"]);
    if (Number.isFinite(retryAfter) && headers["retry-after"] !== undefined) return new ForgeError("rate_limited", `GitHub's secondary rate limit (${status}): ${said}`, status, new Date(now + retryAfter * 1000));
    if (headers["x-ratelimit-remaining"] === "0") {
      const reset = Number(headers["x-ratelimit-reset"]);
      return new ForgeError("rate_limited", `GitHub's rate limit is used up (${status}): ${said}`, status, Number.isFinite(reset) ? new Date(reset * 1000) : undefined);
    }
    if (status === 403) return new ForgeError("forbidden", `GitHub refused (403 ${said}): the token needs the pull requests and contents permissions on this repository`, status);
  }
  if (status === 404) return new ForgeError("not_found", `GitHub has no such repository or pull request, or the token cannot see it (404 ${said})`, status);
  if (status === 422) {
    if (/pull request already exists/i.test(said)) return new ForgeError("exists", said, status);
    return new ForgeError("invalid", `GitHub refused the pull request (422 ${said})`, status);
  }
  // Octokit reports a request that got no answer (refused, reset, timed out) as status 500 without a response.
  if (status >= 500 || !error.response) return new ForgeError("unavailable", `GitHub answered ${error.response ? status : "nothing"}: ${said}`, status);
  return new ForgeError("invalid", `GitHub answered ${status}: ${said}`, status);
}

/** The forge for a repository and token, as the configuration says where GitHub's API is. */
export const githubForgeFactory = (config: { GITHUB_API_URL: string; FORGE_REQUEST_TIMEOUT: number }) => (repository: ForgeRepository, token: string) =>
  githubForge({ apiUrl: config.GITHUB_API_URL, token, repository, timeoutMs: config.FORGE_REQUEST_TIMEOUT });

export function githubForge(options: { apiUrl: string; token: string | undefined; repository: ForgeRepository; timeoutMs: number }): Forge {
  const octokit = new Octokit({
    // Without a token only public repositories answer (and GitHub's lower anonymous rate limit applies).
    ...(options.token ? { auth: options.token } : {}),
    baseUrl: options.apiUrl.replace(/\/+$/, ""),
    userAgent: "agent-control-plane",
    // Errors are classified and reported by the caller; Octokit's own console warnings add nothing.
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  const repo = { owner: options.repository.owner, repo: options.repository.name };
  const request = () => ({ signal: AbortSignal.timeout(options.timeoutMs) });
  const call = async <T>(work: () => Promise<T>) => {
    try {
      return await work();
    } catch (error) {
      throw classify(error);
    }
  };

  return {
    name: "github",
    async open(input: NewPullRequest) {
      const create = (draft: boolean) => octokit.rest.pulls.create({ ...repo, head: input.head, base: input.base, title: input.title, body: input.body, draft, request: request() });
      try {
        return view((await create(input.draft)).data as GithubPull);
      } catch (error) {
        const failure = classify(error);
        // Drafts need a plan that has them; such a repository gets a ready pull request instead.
        if (input.draft && failure.kind === "invalid" && /draft pull requests are not supported/i.test(failure.message)) return call(async () => view((await create(false)).data as GithubPull));
        throw failure;
      }
    },
    findByBranch: (branch) =>
      call(async () => {
        const { data } = await octokit.rest.pulls.list({ ...repo, head: `${repo.owner}:${branch}`, state: "all", sort: "created", direction: "desc", per_page: 1, request: request() });
        const [pull] = data as GithubPull[];
        return pull ? view(pull) : undefined;
      }),
    listBranches: () =>
      call(async () => {
        let listed = 0;
        const [{ data: repository }, branches] = await Promise.all([
          octokit.rest.repos.get({ ...repo, request: request() }),
          octokit.paginate(octokit.rest.repos.listBranches, { ...repo, per_page: 100, request: request() }, (response, done) => {
            listed += response.data.length;
            // One page past the limit tells a list that was cut from one that was not.
            if (listed > MAX_LISTED_BRANCHES) done();
            return response.data.map((b) => b.name);
          }),
        ]);
        return { branches: branches.slice(0, MAX_LISTED_BRANCHES), defaultBranch: repository.default_branch ?? null, truncated: branches.length > MAX_LISTED_BRANCHES };
      }),
    get: (number) => call(async () => view((await octokit.rest.pulls.get({ ...repo, pull_number: number, request: request() })).data as GithubPull)),
    update: (number, change) => call(async () => view((await octokit.rest.pulls.update({ ...repo, pull_number: number, body: change.body, request: request() })).data as GithubPull)),
    deleteBranch: (branch) =>
      call(async () => {
        try {
          await octokit.rest.git.deleteRef({ ...repo, ref: `heads/${branch}`, request: request() });
        } catch (error) {
          // GitHub answers 422 "Reference does not exist" for a branch already gone.
          if (error instanceof RequestError && error.status === 422 && /reference does not exist/i.test(error.message)) return;
          throw error;
        }
      }),
    commitChecks: (sha) =>
      call(async () => {
        const [runs, combined] = await Promise.all([
          octokit.paginate(octokit.rest.checks.listForRef, { ...repo, ref: sha, filter: "latest", per_page: 100, request: request() }),
          octokit.rest.repos.getCombinedStatusForRef({ ...repo, ref: sha, per_page: 100, request: request() }),
        ]);
        return [...(runs as GithubCheckRun[]).map(checkRunView), ...(combined.data.statuses as GithubStatus[]).map(statusView)];
      }),
    // GitHub answers with a redirect to a short-lived URL; Octokit follows it and hands back the text.
    jobLog: (jobId) =>
      call(async () => {
        const { data } = await octokit.rest.actions.downloadJobLogsForWorkflowRun({ ...repo, job_id: jobId, request: request() });
        return typeof data === "string" ? data : Buffer.from(data as ArrayBuffer).toString("utf8");
      }),
    // REST cannot change a draft: GitHub's GraphQL API does, by the pull request's node id.
    setDraft: (number, draft) =>
      call(async () => {
        const pull = (await octokit.rest.pulls.get({ ...repo, pull_number: number, request: request() })).data as GithubPull;
        const current = view(pull);
        if ((current.state !== "draft" && current.state !== "open") || (current.state === "draft") === draft) return current;
        const mutation = draft ? "convertPullRequestToDraft" : "markPullRequestReadyForReview";
        await octokit.graphql(`mutation($id: ID!) { ${mutation}(input: { pullRequestId: $id }) { pullRequest { number isDraft } } }`, { id: pull.node_id, request: request() });
        return { ...current, state: draft ? "draft" : "open" };
      }),
  };
}
