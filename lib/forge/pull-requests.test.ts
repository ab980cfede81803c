/**
 * One pull request per task, for its whole life, against the GitHub double: opened as a draft by
 * the first turn that pushed, updated by later ones, adopted when GitHub already has one, retried
 * later when GitHub failed for a while, and the reason shown when there can be none.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "@/tests/harness/test-database";
import { startGithubRestDouble } from "@/tests/doubles/github-rest";
import { pullRequests, taskMessages, tasks, taskTurns, users } from "@/db/schema";
import { parseConfig, type Config } from "../config";
import { newKeyRingEntry, parseKeyRing } from "../envelope";
import { putSecret } from "../secrets/store";
import { pullRequestView, refreshPullRequests, syncPullRequest } from "./pull-requests";

const TOKEN = "ghp_pull_requests_test";
const SHA = "b".repeat(40);
const ring = parseKeyRing(newKeyRingEntry("k1"));
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let github: Awaited<ReturnType<typeof startGithubRestDouble>>;
let config: Config;
let clock = Date.now();
let n = 0;

const source = () => ({ db: database.db, secrets: ring, config, now: () => clock });

async function pushedTask(options: { repository?: string; userId?: string; pushed?: boolean } = {}) {
  const id = `t_pr_${++n}`;
  await database.db.insert(tasks).values({
    id,
    userId: options.userId ?? "u1",
    repository: options.repository ?? `${github.url}/acme/widgets.git`,
    prompt: "Add a widget registry\n\nWith a test for it.",
    agent: "script",
    status: "in_progress",
    branch: `agents/${id}`,
    baseBranch: "main",
    commitSha: SHA,
    pushed: options.pushed ?? true,
  });
  return id;
}

beforeAll(async () => {
  database = await openTestDatabase();
  github = await startGithubRestDouble({ tokens: [TOKEN], repositories: ["acme/widgets"], prefix: "/api/v3", branchCommit: () => SHA });
  config = parseConfig({ GITHUB_URL: github.url, GITHUB_API_URL: github.apiUrl, APP_URL: "https://agents.example.test", FORGE_RETRIES: "2", FORGE_RETRY_BACKOFF: "5s", FORGE_RATE_LIMIT_MAX_WAIT: "10m" });
  await database.db.insert(users).values([
    { id: "u1", email: "ada@example.test", name: "Ada" },
    { id: "u2", email: "bob@example.test", name: "Bob" },
  ]);
  await putSecret(database.db, ring, "u1", "GITHUB_TOKEN", TOKEN);
});
afterAll(async () => {
  await github?.close();
  await database?.close();
});
beforeEach(() => {
  clock = Date.now();
});

describe("a task's pull request", () => {
  it("is opened as a draft by the first turn that pushed, then updated, never opened twice", async () => {
    const id = await pushedTask();
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "synced", state: "draft" });
    const pull = github.pulls.find((p) => p.head === `agents/${id}`)!;
    expect(pull).toMatchObject({ title: "Add a widget registry", base: "main", draft: true });
    expect(pull.body).toContain("> Add a widget registry");
    expect(pull.body).toContain(`https://agents.example.test/tasks/${id}`);
    expect(await pullRequestView(database.db, id)).toMatchObject({ repository: "acme/widgets", number: pull.number, url: `${github.url}/acme/widgets/pull/${pull.number}`, state: "draft", error: null });

    // A second turn, after a follow-up: the same pull request, its body names the follow-up.
    await database.db.insert(taskMessages).values({ taskId: id, clientId: "c1", body: "Also document it", status: "delivered", turn: 2 });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "synced", state: "draft" });
    expect(github.pulls.filter((p) => p.head === `agents/${id}`)).toHaveLength(1);
    expect(pull.body).toContain("turn 2: Also document it");

    // Merged on GitHub after the task ended: the refresh pass reads it (and leaves the others).
    github.merge(pull.number);
    const later = { ...source(), now: () => Date.now() + 1_000 };
    expect(await refreshPullRequests(later, 0)).toBe(1);
    expect((await pullRequestView(database.db, id))?.state).toBe("merged");
    // A merged one is not read again.
    const before = github.calls.length;
    await refreshPullRequests(later, 0);
    expect(github.calls.slice(before).filter((c) => c.path.endsWith(`/pulls/${pull.number}`))).toHaveLength(0);
  });

  it("stays a draft while the newest checks fail, is marked ready for review once they pass (GitHub's GraphQL mutations), and carries them as evidence", async () => {
    const id = await pushedTask();
    const checks = (passed: boolean) => ({ source: "package.json", passed, commands: [{ command: "npm test", exitCode: passed ? 0 : 1, durationMs: 2300, timedOut: false, outputTail: "" }] });
    await database.db.insert(taskTurns).values({ taskId: id, sessionId: `s_${id}`, turn: 1, commitSha: SHA, pushed: true, checks: checks(false) });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "synced", state: "draft" });
    const pull = github.pulls.find((p) => p.head === `agents/${id}`)!;
    expect(pull.draft).toBe(true);
    expect(pull.body).toContain("**Checks** (package.json): failing");
    expect(pull.body).toContain("- `npm test`: exit 1 in 2.3 s");

    await database.db.insert(taskTurns).values({ taskId: id, sessionId: `s_${id}`, turn: 2, commitSha: SHA, pushed: true, checks: checks(true) });
    const before = github.calls.length;
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "synced", state: "open" });
    expect(pull.draft).toBe(false);
    expect(pull.body).toContain("**Checks** (package.json): passed");
    expect(github.calls.slice(before).find((c) => c.path === "/api/graphql")?.body).toMatchObject({ query: expect.stringContaining("markPullRequestReadyForReview"), variables: { id: expect.stringMatching(/^PR_/) } });
    expect(await pullRequestView(database.db, id)).toMatchObject({ state: "open" });

    // A later turn breaks them again: back to a draft. With PR_READY_WHEN_GREEN off, nothing is changed.
    await database.db.insert(taskTurns).values({ taskId: id, sessionId: `s_${id}`, turn: 3, commitSha: SHA, pushed: true, checks: checks(false) });
    expect(await syncPullRequest({ ...source(), config: { ...config, PR_READY_WHEN_GREEN: false } }, id)).toEqual({ outcome: "synced", state: "open" });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "synced", state: "draft" });
    expect(pull.draft).toBe(true);
  });

  it("carries the agent's own closing summary, quoted, from the newest turn that gave one", async () => {
    const id = await pushedTask();
    const turn = (number: number, summary: string | null) => database.db.insert(taskTurns).values({ taskId: id, sessionId: `s_${id}`, turn: number, commitSha: SHA, pushed: true, summary });
    // Before any turn said anything, there is no such section.
    await turn(1, null);
    expect(await syncPullRequest(source(), id)).toMatchObject({ outcome: "synced" });
    const pull = github.pulls.find((p) => p.head === `agents/${id}`)!;
    expect(pull.body).not.toContain("Agent's summary");

    await turn(2, "Added the registry.\n\n- `registry.ts`\n- a test");
    await syncPullRequest(source(), id);
    expect(pull.body).toContain("**Agent's summary** (turn 2)\n\n> Added the registry.\n> \n> - `registry.ts`\n> - a test\n");

    // A later turn that said nothing (it failed, say) leaves the newest summary there is; one that did replaces it.
    await turn(3, null);
    await syncPullRequest(source(), id);
    expect(pull.body).toContain("**Agent's summary** (turn 2)");
    await turn(4, "Documented it too.");
    await syncPullRequest(source(), id);
    expect(pull.body).toContain("**Agent's summary** (turn 4)\n\n> Documented it too.\n");
    expect(pull.body).not.toContain("Added the registry.");
    // Below the task and its follow-ups, above what the branch changes.
    expect(pull.body.indexOf("> Add a widget registry")).toBeLessThan(pull.body.indexOf("**Agent's summary**"));
  });

  it("adopts the pull request GitHub already has for the branch (422 'already exists')", async () => {
    const id = await pushedTask();
    await syncPullRequest(source(), id);
    // The row is lost (a step whose answer never came back): the next sync must not open another.
    await database.db.delete(pullRequests).where(eq(pullRequests.taskId, id));
    const before = github.calls.length;
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "synced", state: "draft" });
    expect(github.pulls.filter((p) => p.head === `agents/${id}`)).toHaveLength(1);
    expect(github.calls.slice(before).map((c) => c.method)).toEqual(["POST", "GET", "PATCH"]);
  });

  it("is tried again after a 5xx with a growing wait, and the error is shown once it gives up", async () => {
    const id = await pushedTask();
    github.failNext({ status: 502 }, { status: 503 }, { status: 500 });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "retry", retryAt: new Date(clock + 5_000).toISOString() });
    expect((await pullRequestView(database.db, id))?.error).toMatch(/GitHub answered 502.*trying again at/);
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "retry", retryAt: new Date(clock + 10_000).toISOString() });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "failed" });
    expect((await pullRequestView(database.db, id))?.error).toMatch(/^No pull request: GitHub answered 500.*gave up after 3 tries/);
    // The next turn starts afresh and opens it.
    expect(await syncPullRequest(source(), id)).toMatchObject({ outcome: "synced" });
  });

  it("waits for a rate limit's reset, unless it resets later than FORGE_RATE_LIMIT_MAX_WAIT", async () => {
    const id = await pushedTask();
    const soon = Math.floor(clock / 1000) + 300;
    github.failNext({ status: 403, headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(soon) } });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "retry", retryAt: new Date(soon * 1000).toISOString() });
    github.failNext({ status: 429, headers: { "retry-after": "3600" } });
    expect(await syncPullRequest(source(), id)).toEqual({ outcome: "failed" });
    expect((await pullRequestView(database.db, id))?.error).toMatch(/secondary rate limit/);
  });

  it("shows why there is none: a refused token, or no token at all", async () => {
    const refused = await pushedTask();
    github.failNext({ status: 401, body: { message: "Bad credentials" } });
    expect(await syncPullRequest(source(), refused)).toEqual({ outcome: "failed" });
    expect((await pullRequestView(database.db, refused))?.error).toMatch(/GitHub refused the token \(401 Bad credentials\)/);
    const tokenless = await pushedTask({ userId: "u2" });
    expect(await syncPullRequest(source(), tokenless)).toEqual({ outcome: "failed" });
    expect((await pullRequestView(database.db, tokenless))?.error).toMatch(/no GITHUB_TOKEN/);
  });

  it("is not opened for a local repository or before anything was pushed", async () => {
    const before = github.calls.length;
    expect(await syncPullRequest(source(), await pushedTask({ repository: "/srv/repos/widgets" }))).toEqual({ outcome: "no-forge" });
    expect(await syncPullRequest(source(), await pushedTask({ pushed: false }))).toEqual({ outcome: "not-pushed" });
    expect(github.calls.length).toBe(before);
  });
});
