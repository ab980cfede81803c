/** The GitHub forge (Octokit) against a local double of GitHub's REST API: each documented answer becomes the right kind. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startGithubRestDouble, type DoubleCiJob } from "@/tests/doubles/github-rest";
import { ForgeError } from "./forge";
import { githubForge } from "./github";

const TOKEN = "ghp_forge_test_token";
const SHA = "a".repeat(40);
const CI_SHA = "c".repeat(40);
let github: Awaited<ReturnType<typeof startGithubRestDouble>>;
let ciJobs: DoubleCiJob[] = [];
const forge = (token = TOKEN, name = "widgets") => githubForge({ apiUrl: github.apiUrl, token, repository: { forge: "github", owner: "acme", name }, timeoutMs: 5_000 });
const pr = (head: string) => ({ head, base: "main", title: "Add a widget", body: "body", draft: true });

async function failure(work: Promise<unknown>): Promise<ForgeError> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ForgeError);
  return error as ForgeError;
}

beforeAll(async () => {
  github = await startGithubRestDouble({
    tokens: [TOKEN],
    repositories: ["acme/widgets", "acme/nodrafts"],
    noDrafts: ["acme/nodrafts"],
    prefix: "/api/v3",
    branchCommit: (_owner, _repo, branch) => (branch === "gone" ? undefined : SHA),
    ci: (_owner, repo, sha) => (repo === "widgets" && sha === CI_SHA ? ciJobs : undefined),
    deleteBranch: (_owner, _repo, branch) => branch === "agents/doomed",
  });
});
afterAll(async () => github?.close());

describe("the GitHub forge", () => {
  it("opens a draft pull request, finds it by its branch and updates its body", async () => {
    const opened = await forge().open(pr("agents/one"));
    expect(opened).toEqual({ number: expect.any(Number), url: `${github.url}/acme/widgets/pull/${opened.number}`, state: "draft", headCommit: SHA });
    expect(await forge().findByBranch("agents/one")).toEqual(opened);
    expect(await forge().findByBranch("agents/none")).toBeUndefined();
    const updated = await forge().update(opened.number, { body: "turn 2" });
    expect(updated.number).toBe(opened.number);
    expect(github.pulls.find((p) => p.number === opened.number)?.body).toBe("turn 2");
    const create = github.calls.find((c) => c.method === "POST")!;
    expect(create).toMatchObject({ path: "/api/v3/repos/acme/widgets/pulls", authorized: true, body: { head: "agents/one", base: "main", draft: true } });
  });

  it("says `exists` for GitHub's 422 'A pull request already exists'", async () => {
    await forge().open(pr("agents/two"));
    const error = await failure(forge().open(pr("agents/two")));
    expect(error).toMatchObject({ kind: "exists", status: 422 });
    expect(error.message).toMatch(/A pull request already exists for acme:agents\/two/);
  });

  it("opens a ready pull request where the repository has no drafts", async () => {
    expect(await forge(TOKEN, "nodrafts").open(pr("agents/three"))).toMatchObject({ state: "open" });
  });

  it("reports other validation failures as permanent, naming the field", async () => {
    const error = await failure(forge().open(pr("gone")));
    expect(error).toMatchObject({ kind: "invalid", status: 422, transient: false });
    expect(error.message).toMatch(/Validation Failed: head invalid/);
  });

  it("says `unauthorized` for a bad token and `not_found` for a repository it cannot see", async () => {
    expect(await failure(forge("ghp_wrong").open(pr("agents/four")))).toMatchObject({ kind: "unauthorized", status: 401, transient: false });
    expect(await failure(forge(TOKEN, "secret").open(pr("agents/four")))).toMatchObject({ kind: "not_found", status: 404 });
  });

  it("reads the rate-limit headers: a used-up primary limit waits for its reset, a secondary one for retry-after", async () => {
    const reset = Math.floor(Date.now() / 1000) + 120;
    github.failNext({ status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(reset) }, body: { message: "API rate limit exceeded for user ID 1." } });
    const primary = await failure(forge().open(pr("agents/five")));
    expect(primary).toMatchObject({ kind: "rate_limited", status: 403, transient: true });
    expect(primary.retryAt?.getTime()).toBe(reset * 1000);

    const before = Date.now();
    github.failNext({ status: 429, headers: { "retry-after": "60" }, body: { message: "You have exceeded a secondary rate limit." } });
    const secondary = await failure(forge().open(pr("agents/five")));
    expect(secondary).toMatchObject({ kind: "rate_limited", status: 429 });
    expect(secondary.retryAt!.getTime()).toBeGreaterThanOrEqual(before + 60_000);
    expect(secondary.retryAt!.getTime()).toBeLessThanOrEqual(Date.now() + 60_000);

    github.failNext({ status: 403, body: { message: "Resource not accessible by personal access token" } });
    expect(await failure(forge().open(pr("agents/five")))).toMatchObject({ kind: "forbidden", transient: false });
  });

  it("says `unavailable` for a 5xx and for a server that does not answer", async () => {
    github.failNext({ status: 502, body: { message: "Server Error" } });
    expect(await failure(forge().open(pr("agents/six")))).toMatchObject({ kind: "unavailable", status: 502, transient: true });
    const nowhere = githubForge({ apiUrl: "http://127.0.0.1:9/api/v3", token: TOKEN, repository: { forge: "github", owner: "acme", name: "widgets" }, timeoutMs: 2_000 });
    expect(await failure(nowhere.open(pr("agents/six")))).toMatchObject({ kind: "unavailable", transient: true });
  });

  it("reads a commit's CI: each check run and status as a verdict, the Actions job's id, and its log through the redirect", async () => {
    ciJobs = [
      { kind: "check_run", name: "test", status: "completed", conclusion: "failure", title: "1 failing", summary: "expected 2 to be 3", log: "2026-12-07T10:00:00.0000000Z npm test\n2026-12-07T10:00:01.0000000Z AssertionError: expected 2 to be 3\n" },
      { kind: "check_run", name: "lint", status: "completed", conclusion: "skipped" },
      { kind: "check_run", name: "e2e", status: "in_progress" },
      { kind: "status", context: "ci/legacy", state: "error", description: "the build broke" },
    ];
    const checks = await forge().commitChecks(CI_SHA);
    expect(checks).toEqual([
      { kind: "check_run", name: "test", state: "failed", conclusion: "failure", url: expect.stringContaining("/acme/widgets/actions/runs/"), jobId: expect.any(Number), summary: "1 failing: expected 2 to be 3" },
      { kind: "check_run", name: "lint", state: "passed", conclusion: "skipped", url: expect.any(String), jobId: expect.any(Number), summary: null },
      { kind: "check_run", name: "e2e", state: "pending", conclusion: null, url: expect.any(String), jobId: expect.any(Number), summary: null },
      { kind: "status", name: "ci/legacy", state: "failed", conclusion: "error", url: expect.any(String), jobId: null, summary: "the build broke" },
    ]);
    expect(github.calls.some((c) => c.path.startsWith(`/api/v3/repos/acme/widgets/commits/${CI_SHA}/check-runs?`) && c.path.includes("filter=latest"))).toBe(true);
    expect(await forge().jobLog(checks[0]!.jobId!)).toMatch(/AssertionError: expected 2 to be 3/);
    expect(await failure(forge().jobLog(99_999))).toMatchObject({ kind: "not_found" });
    // A commit no CI ran on has nothing to say.
    expect(await forge().commitChecks(SHA)).toEqual([]);
  });

  it("deletes a branch by its ref (slashes and all), takes one already gone as done, and reports a refusal", async () => {
    await forge().deleteBranch("agents/doomed");
    expect(github.calls.at(-1)).toMatchObject({ method: "DELETE", authorized: true, path: expect.stringMatching(/^\/api\/v3\/repos\/acme\/widgets\/git\/refs\/heads(\/|%2F)agents(\/|%2F)doomed$/) });
    await forge().deleteBranch("agents/never-was");
    github.failNext({ status: 403, body: { message: "Resource not accessible by personal access token" } });
    expect(await failure(forge().deleteBranch("agents/doomed"))).toMatchObject({ kind: "forbidden" });
  });
});
