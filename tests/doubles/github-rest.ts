/**
 * A local stand-in for GitHub's REST API pull-request endpoints, following the published contract
 * (docs.github.com "REST API endpoints for pull requests", "Rate limits for the REST API",
 * "Troubleshooting the REST API"): POST/GET/PATCH /repos/{owner}/{repo}/pulls[/{number}] with
 * `authorization: token|Bearer`; 201 on create; 422 "Validation Failed" with an errors list (a head
 * branch that does not exist, "A pull request already exists for owner:branch."); 401 "Bad
 * credentials"; 404 "Not Found" for an unknown repository; x-ratelimit-* headers on every answer.
 * Failures can be queued (a 403 with x-ratelimit-remaining 0, a 429 with retry-after, a 502).
 * A pull request's draft state changes through the GraphQL API as GitHub publishes it (REST has no
 * endpoint for it): POST /graphql (GHES: /api/graphql) with the `markPullRequestReadyForReview` and
 * `convertPullRequestToDraft` mutations on the pull request's `node_id`.
 * CI, as the checks and statuses APIs publish it ("REST API endpoints for check runs", "…for
 * commit statuses", "…for workflow jobs"): GET /repos/{o}/{r}/commits/{ref}/check-runs (the latest
 * run of each name, `{ total_count, check_runs }`), GET …/commits/{ref}/status (the combined
 * status: `failure` when any is failure or error, `pending` when any is pending or there are none),
 * and GET …/actions/jobs/{job_id}/logs, a 302 to a plain-text log that needs no token (GitHub
 * redirects to a short-lived signed URL). What CI says for a commit is the test's `ci` function,
 * asked anew at every request, so a run can go from queued to completed between two looks.
 * Mounted under a path prefix (`/api/v3`, as GitHub Enterprise Server serves it) it shares a
 * server with the git double, so one host serves the repository and its API. Test tree only.
 */
import { execFileSync, spawnSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { startHttpsGitServer } from "../../vm-agent/test-git-server";

export type DoublePull = {
  number: number;
  owner: string;
  repo: string;
  title: string;
  body: string;
  head: string;
  base: string;
  draft: boolean;
  state: "open" | "closed";
  mergedAt: string | null;
  createdAt: string;
};

/** One CI job on a commit, as the test scripts it: an Actions job (a check run with a log) or a commit status. */
export type DoubleCiJob =
  | { kind: "check_run"; name: string; status: "queued" | "in_progress" | "completed"; conclusion?: "success" | "failure" | "neutral" | "cancelled" | "skipped" | "timed_out" | "action_required"; log?: string; title?: string; summary?: string }
  | { kind: "status"; context: string; state: "pending" | "success" | "failure" | "error"; description?: string };

/** Whether `sha` of the served repository has `file` (what a CI double decides from). */
export const commitHas = (git: { bare: string }, sha: string, file: string) => spawnSync("git", ["-C", git.bare, "cat-file", "-e", `${sha}:${file}`]).status === 0;

/**
 * CI that has ended on a commit, as the tests script it: the Actions job "test", failing while
 * the commit lacks FIXED (its log, stamped as GitHub stamps it, says so), and the status "ci/lint",
 * passing.
 */
export function failingUntilFixed(git: { bare: string }, sha: string): DoubleCiJob[] {
  const fixed = commitHas(git, sha, "FIXED");
  return [
    {
      kind: "check_run",
      name: "test",
      status: "completed",
      conclusion: fixed ? "success" : "failure",
      title: fixed ? "all tests passed" : "1 failing",
      log: `2026-12-07T10:00:00.0000000Z Run npm test\n${fixed ? "" : "2026-12-07T10:00:01.0000000Z Error: FIXED is missing\n2026-12-07T10:00:01.1000000Z ##[error]Process completed with exit code 1.\n"}`,
    },
    { kind: "status", context: "ci/lint", state: "success", description: "lint passed" },
  ];
}

export type QueuedFailure = { status: number; headers?: Record<string, string>; body?: unknown };
export type ApiCall = { method: string; path: string; authorized: boolean; body?: Record<string, unknown> };

export type GithubRestOptions = {
  /** Tokens GitHub accepts. */
  tokens: string[];
  /** `owner/name` of the repositories that exist. */
  repositories: string[];
  /** Where the API is mounted ("" at the root, "/api/v3" as on GitHub Enterprise Server). */
  prefix?: string;
  /** The commit a branch points at, or undefined when the repository has no such branch. */
  branchCommit?: (owner: string, repo: string, branch: string) => string | undefined;
  /** The repository's branches, in GitHub's order (by name); its default branch is `main`. */
  branches?: (owner: string, repo: string) => string[];
  /** Repositories whose plan has no draft pull requests. */
  noDrafts?: string[];
  /** Deletes a branch (DELETE …/git/refs/heads/{branch}); false when there is none. */
  deleteBranch?: (owner: string, repo: string, branch: string) => boolean;
  /** The CI jobs of a commit (none when undefined): asked at every look, so their state may change. */
  ci?: (owner: string, repo: string, sha: string) => DoubleCiJob[] | undefined;
  /** The base of html_url (the web address); default the server's own. */
  webUrl?: () => string;
};

const readJson = async (request: http.IncomingMessage) => {
  let text = "";
  for await (const chunk of request) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
};

export function githubRestApi(options: GithubRestOptions) {
  const prefix = options.prefix ?? "";
  const pulls: DoublePull[] = [];
  const calls: ApiCall[] = [];
  const failures: QueuedFailure[] = [];
  let remaining = 5000;
  const reset = () => Math.floor(Date.now() / 1000) + 3600;
  const commitOf = (pull: DoublePull) => options.branchCommit?.(pull.owner, pull.repo, pull.head) ?? "0".repeat(40);

  const json = (response: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    response.writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "x-ratelimit-limit": "5000",
      "x-ratelimit-remaining": String(Math.max(remaining, 0)),
      "x-ratelimit-reset": String(reset()),
      "x-ratelimit-resource": "core",
      "x-github-api-version-selected": "2022-11-28",
      ...headers,
    });
    response.end(JSON.stringify(body));
  };
  const docs = "https://docs.github.com/rest";
  const notFound = (response: http.ServerResponse) => json(response, 404, { message: "Not Found", documentation_url: docs, status: "404" });
  const invalid = (response: http.ServerResponse, errors: unknown[]) => json(response, 422, { message: "Validation Failed", errors, documentation_url: docs, status: "422" });

  const render = (pull: DoublePull, web: string) => ({
    url: `${web}${prefix}/repos/${pull.owner}/${pull.repo}/pulls/${pull.number}`,
    html_url: `${web}/${pull.owner}/${pull.repo}/pull/${pull.number}`,
    node_id: nodeId(pull),
    number: pull.number,
    state: pull.state,
    draft: pull.draft,
    title: pull.title,
    body: pull.body,
    merged_at: pull.mergedAt,
    created_at: pull.createdAt,
    head: { ref: pull.head, sha: commitOf(pull), label: `${pull.owner}:${pull.head}` },
    base: { ref: pull.base, label: `${pull.owner}:${pull.base}` },
  });

  const nodeId = (pull: DoublePull) => `PR_kwDO${Buffer.from(`${pull.owner}/${pull.repo}#${pull.number}`).toString("base64url")}`;
  // Octokit's GraphQL endpoint: /graphql, or /api/graphql beside a GHES REST API at /api/v3.
  const graphqlPath = prefix.endsWith("/v3") ? `${prefix.slice(0, -3)}/graphql` : `${prefix}/graphql`;
  const DRAFT_MUTATIONS = { markPullRequestReadyForReview: false, convertPullRequestToDraft: true } as const;

  /** The two draft mutations, answered as GitHub's GraphQL API does (errors in a 200 body). */
  function graphql(body: Record<string, unknown>, response: http.ServerResponse) {
    const query = String(body.query ?? "");
    const name = (Object.keys(DRAFT_MUTATIONS) as (keyof typeof DRAFT_MUTATIONS)[]).find((m) => new RegExp(`\\b${m}\\s*\\(`).test(query));
    const id = (body.variables as { id?: string } | undefined)?.id;
    const pull = pulls.find((p) => nodeId(p) === id);
    if (!name) return json(response, 200, { errors: [{ message: "this double answers only the draft mutations" }] });
    if (!pull) return json(response, 200, { data: { [name]: null }, errors: [{ type: "NOT_FOUND", path: [name], message: `Could not resolve to a node with the global id of '${id}'` }] });
    pull.draft = DRAFT_MUTATIONS[name];
    json(response, 200, { data: { [name]: { pullRequest: { number: pull.number, isDraft: pull.draft } } } });
  }

  /** Check runs keep one id per (commit, name): a job's id is its check run's, as with GitHub Actions. */
  const checkRunIds = new Map<string, number>();
  const checkRunId = (sha: string, name: string) => {
    const key = `${sha}:${name}`;
    if (!checkRunIds.has(key)) checkRunIds.set(key, 1000 + checkRunIds.size);
    return checkRunIds.get(key)!;
  };
  const jobLogs = new Map<number, string>();

  function checkRuns(owner: string, repo: string, sha: string, web: string) {
    const runs = (options.ci?.(owner, repo, sha) ?? []).flatMap((job) => (job.kind === "check_run" ? [job] : []));
    return runs.map((job) => {
      const id = checkRunId(sha, job.name);
      if (job.log !== undefined) jobLogs.set(id, job.log);
      const completed = job.status === "completed";
      return {
        id,
        head_sha: sha,
        name: job.name,
        status: job.status,
        conclusion: completed ? (job.conclusion ?? "success") : null,
        html_url: `${web}/${owner}/${repo}/actions/runs/1/job/${id}`,
        details_url: `${web}/${owner}/${repo}/actions/runs/1/job/${id}`,
        started_at: new Date().toISOString(),
        completed_at: completed ? new Date().toISOString() : null,
        output: { title: job.title ?? null, summary: job.summary ?? null, text: null, annotations_count: 0 },
        app: { slug: "github-actions", name: "GitHub Actions" },
      };
    });
  }

  function combinedStatus(owner: string, repo: string, sha: string) {
    const statuses = (options.ci?.(owner, repo, sha) ?? []).flatMap((job) => (job.kind === "status" ? [job] : []));
    const state = statuses.some((x) => x.state === "failure" || x.state === "error") ? "failure" : statuses.length === 0 || statuses.some((x) => x.state === "pending") ? "pending" : "success";
    return {
      state,
      sha,
      total_count: statuses.length,
      statuses: statuses.map((x, i) => ({ id: i + 1, state: x.state, context: x.context, description: x.description ?? null, target_url: `https://ci.example.test/${sha}/${encodeURIComponent(x.context)}` })),
    };
  }

  async function handle(request: http.IncomingMessage, response: http.ServerResponse, web: string): Promise<boolean> {
    const url = new URL(request.url ?? "/", "http://github.local");
    // Where the job-logs API redirects: a signed, short-lived URL that needs no token.
    const log = /^\/_job-logs\/(\d+)$/.exec(url.pathname);
    if (log && request.method === "GET") {
      const text = jobLogs.get(Number(log[1]));
      response.writeHead(text === undefined ? 404 : 200, { "content-type": "text/plain; charset=utf-8" });
      response.end(text ?? "Not Found");
      return true;
    }
    const isGraphql = url.pathname === graphqlPath && request.method === "POST";
    if (!url.pathname.startsWith(`${prefix}/repos/`) && !isGraphql) return false;
    const method = request.method ?? "GET";
    const body = method === "POST" || method === "PATCH" ? await readJson(request) : undefined;
    const credential = /^(?:token|bearer) (.+)$/i.exec(request.headers.authorization ?? "")?.[1];
    const authorized = credential !== undefined && options.tokens.includes(credential);
    calls.push({ method, path: `${url.pathname}${url.search}`, authorized, ...(body ? { body } : {}) });
    const failure = failures.shift();
    if (failure) {
      json(response, failure.status, failure.body ?? { message: `status ${failure.status}`, documentation_url: docs }, failure.headers);
      return true;
    }
    if (!authorized) {
      json(response, 401, { message: "Bad credentials", documentation_url: docs, status: "401" });
      return true;
    }
    remaining--;
    if (isGraphql) graphql(body ?? {}, response);
    else route(request.method ?? "GET", url, body, response, web);
    return true;
  }

  function route(method: string, url: URL, body: Record<string, unknown> | undefined, response: http.ServerResponse, web: string): void {
    const repository = /^\/repos\/([^/]+)\/([^/]+)(\/branches)?$/.exec(url.pathname.slice(prefix.length));
    if (repository && method === "GET") {
      const [, owner = "", repo = "", branches] = repository;
      if (!options.repositories.includes(`${owner}/${repo}`)) return notFound(response);
      if (!branches) return json(response, 200, { name: repo, full_name: `${owner}/${repo}`, default_branch: "main", private: true });
      // Paginated as GitHub does: per_page (at most 100) and page, with a Link header to the next page.
      const names = [...(options.branches?.(owner, repo) ?? ["main"])].sort();
      const perPage = Math.min(Number(url.searchParams.get("per_page") ?? 30), 100);
      const page = Number(url.searchParams.get("page") ?? 1);
      const slice = names.slice((page - 1) * perPage, page * perPage);
      const next = page * perPage < names.length ? { link: `<${web}${prefix}/repos/${owner}/${repo}/branches?per_page=${perPage}&page=${page + 1}>; rel="next"` } : undefined;
      return json(response, 200, slice.map((name) => ({ name, commit: { sha: options.branchCommit?.(owner, repo, name) ?? "0".repeat(40) }, protected: false })), next);
    }
    // The ref may come with its slashes encoded (Octokit sends heads%2Fagents%2F…), as GitHub takes it.
    const ref = /^\/repos\/([^/]+)\/([^/]+)\/git\/refs\/(.+)$/.exec(url.pathname.slice(prefix.length));
    if (ref && method === "DELETE") {
      const [, owner = "", repo = "", name = ""] = ref;
      const branch = /^heads\/(.+)$/.exec(decodeURIComponent(name))?.[1];
      if (!options.repositories.includes(`${owner}/${repo}`)) return notFound(response);
      if (!branch || !options.deleteBranch?.(owner, repo, branch)) return json(response, 422, { message: "Reference does not exist", documentation_url: docs, status: "422" });
      response.writeHead(204, { "x-ratelimit-remaining": String(remaining) });
      return void response.end();
    }
    const ci = /^\/repos\/([^/]+)\/([^/]+)\/(?:commits\/([^/]+)\/(check-runs|status)|actions\/jobs\/(\d+)\/logs)$/.exec(url.pathname.slice(prefix.length));
    if (ci && method === "GET") {
      const [, owner = "", repo = "", ref = "", what, job] = ci;
      if (!options.repositories.includes(`${owner}/${repo}`)) return notFound(response);
      if (job !== undefined) {
        if (!jobLogs.has(Number(job))) return notFound(response);
        response.writeHead(302, { location: `${web}/_job-logs/${job}`, "x-ratelimit-remaining": String(remaining) });
        return void response.end();
      }
      // A branch name resolves to its commit, as GitHub's `ref` does.
      const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : options.branchCommit?.(owner, repo, decodeURIComponent(ref));
      if (!sha) return json(response, 422, { message: `No commit found for SHA: ${ref}`, documentation_url: docs, status: "422" });
      if (what === "status") return json(response, 200, combinedStatus(owner, repo, sha));
      const runs = checkRuns(owner, repo, sha, web);
      return json(response, 200, { total_count: runs.length, check_runs: runs });
    }
    const match = /^\/repos\/([^/]+)\/([^/]+)\/pulls(?:\/(\d+))?$/.exec(url.pathname.slice(prefix.length));
    if (!match || !options.repositories.includes(`${match[1]}/${match[2]}`)) return notFound(response);
    const [, owner = "", repo = "", number] = match;
    const mine = pulls.filter((p) => p.owner === owner && p.repo === repo);
    if (number === undefined && method === "POST") {
      const input = body as { title?: string; head?: string; base?: string; body?: string; draft?: boolean };
      if (!input.title) return invalid(response, [{ resource: "PullRequest", field: "title", code: "missing_field" }]);
      const head = (input.head ?? "").replace(new RegExp(`^${owner}:`), "");
      if (!input.base || !options.branchCommit?.(owner, repo, input.base)) return invalid(response, [{ resource: "PullRequest", field: "base", code: "invalid" }]);
      if (!head || !options.branchCommit?.(owner, repo, head)) return invalid(response, [{ resource: "PullRequest", field: "head", code: "invalid" }]);
      if (mine.some((p) => p.head === head && p.base === input.base && p.state === "open")) {
        return invalid(response, [{ resource: "PullRequest", code: "custom", message: `A pull request already exists for ${owner}:${head}.` }]);
      }
      if (input.draft && options.noDrafts?.includes(`${owner}/${repo}`)) {
        return invalid(response, [{ resource: "PullRequest", code: "custom", message: "Draft pull requests are not supported in this repository." }]);
      }
      const pull: DoublePull = { number: pulls.length + 1, owner, repo, title: input.title, body: input.body ?? "", head, base: input.base, draft: input.draft === true, state: "open", mergedAt: null, createdAt: new Date().toISOString() };
      pulls.push(pull);
      return json(response, 201, render(pull, web), { location: `${web}${prefix}/repos/${owner}/${repo}/pulls/${pull.number}` });
    }
    if (number === undefined && method === "GET") {
      const state = url.searchParams.get("state") ?? "open";
      const head = url.searchParams.get("head");
      let found = mine.filter((p) => state === "all" || p.state === state).filter((p) => !head || `${p.owner}:${p.head}` === head);
      if (url.searchParams.get("direction") === "desc") found = [...found].reverse();
      const perPage = Number(url.searchParams.get("per_page") ?? 30);
      return json(response, 200, found.slice(0, perPage).map((p) => render(p, web)));
    }
    const pull = mine.find((p) => p.number === Number(number));
    if (!pull) return notFound(response);
    if (method === "GET") return json(response, 200, render(pull, web));
    if (method === "PATCH") {
      const change = body as { title?: string; body?: string; state?: "open" | "closed" };
      if (change.title !== undefined) pull.title = change.title;
      if (change.body !== undefined) pull.body = change.body;
      if (change.state) pull.state = change.state;
      return json(response, 200, render(pull, web));
    }
    notFound(response);
  }

  return {
    handle,
    pulls,
    calls,
    /** The next API requests get these answers, in order, whatever they ask. */
    failNext(...answers: QueuedFailure[]) {
      failures.push(...answers);
    },
    /** What a person does on GitHub: merge or close a pull request. */
    merge(number: number) {
      const pull = pulls.find((p) => p.number === number)!;
      pull.state = "closed";
      pull.mergedAt = new Date().toISOString();
    },
    close(number: number) {
      pulls.find((p) => p.number === number)!.state = "closed";
    },
  };
}

export type GithubRestApi = ReturnType<typeof githubRestApi>;

/** The API alone on a loopback HTTP server (the forge client's tests). */
export async function startGithubRestDouble(options: GithubRestOptions) {
  let url = "";
  const api = githubRestApi(options);
  const server = http.createServer((request, response) => {
    void api.handle(request, response, options.webUrl?.() ?? url).then((handled) => {
      if (!handled) {
        response.writeHead(404, { "content-type": "application/json" });
        response.end(JSON.stringify({ message: "Not Found" }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    ...api,
    url,
    apiUrl: `${url}${options.prefix ?? ""}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * GitHub as one HTTPS host, as GitHub Enterprise Server serves it: the repository `org/repo` over
 * git's smart HTTP (a token as `x-access-token`) and the REST API under `/api/v3`. Clients trust
 * its certificate through `caFile` (NODE_EXTRA_CA_CERTS, GIT_SSL_CAINFO).
 */
export async function startGithubWithRepository(options: { token: string; files?: Record<string, string>; ci?: (git: { bare: string }, sha: string) => DoubleCiJob[] | undefined }) {
  const served: { git?: Awaited<ReturnType<typeof startHttpsGitServer>> } = {};
  const api = githubRestApi({
    tokens: [options.token],
    repositories: ["org/repo"],
    prefix: "/api/v3",
    branchCommit: (_owner, _repo, branch) => served.git?.branch(branch),
    branches: () => execFileSync("git", ["-C", served.git!.bare, "for-each-ref", "--format=%(refname:lstrip=2)", "refs/heads/"], { encoding: "utf8" }).split("\n").filter(Boolean),
    ...(options.ci ? { ci: (_owner: string, _repo: string, sha: string) => options.ci!(served.git!, sha) } : {}),
    deleteBranch: (_owner, _repo, branch) => {
      if (!served.git?.branch(branch)) return false;
      execFileSync("git", ["-C", served.git.bare, "update-ref", "-d", `refs/heads/${branch}`]);
      return true;
    },
  });
  const git = await startHttpsGitServer({ token: options.token, files: options.files, routes: api.handle });
  served.git = git;
  const webUrl = `https://${git.host}`;
  const apiUrl = `${webUrl}/api/v3`;
  return {
    ...api,
    git,
    repository: git.url,
    webUrl,
    apiUrl,
    caFile: git.caFile,
    /** A system's settings for this host: its addresses, and its certificate trusted by the app's API calls and the node's git (as with a private GitHub Enterprise CA). */
    systemEnv: { GITHUB_URL: webUrl, GITHUB_API_URL: apiUrl, NODE_EXTRA_CA_CERTS: git.caFile, GIT_SSL_CAINFO: git.caFile },
    close: git.close,
  };
}
