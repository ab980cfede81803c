/**
 * Reading a commit's CI and turning a failure into the agent's next prompt, against a real database
 * and the GitHub double: the verdict kept on the turn, the failing job's log end without GitHub's
 * timestamps or colours, the grace for CI that has not started, rounds counted with check rounds,
 * and the webhook's signature and commit.
 */
import { createHmac } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "@/tests/harness/test-database";
import { startGithubRestDouble, type DoubleCiJob } from "@/tests/doubles/github-rest";
import { taskMessages, tasks, taskTurns, users } from "@/db/schema";
import { parseConfig, type Config } from "../config";
import { newKeyRingEntry, parseKeyRing } from "../envelope";
import { putSecret } from "../secrets/store";
import { queueCiFollowup, taskCi } from "./rounds";
import { logTail, lookAtCi, turnCi } from "./watch";
import { ciWatchers, validSignature, webhookCommit } from "./webhook";

const TOKEN = "ghp_ci_unit";
const ring = parseKeyRing(newKeyRingEntry("k1"));
const jobs = new Map<string, DoubleCiJob[]>();
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let github: Awaited<ReturnType<typeof startGithubRestDouble>>;
let config: Config;
let n = 0;

const sha = (c: string) => c.repeat(40);
const source = () => ({ db: database.db, secrets: ring, config });

beforeAll(async () => {
  database = await openTestDatabase();
  github = await startGithubRestDouble({
    tokens: [TOKEN],
    repositories: ["acme/widgets"],
    prefix: "/api/v3",
    branchCommit: (_o, _r, branch) => (branch === "main" ? sha("0") : undefined),
    ci: (_o, _r, commit) => jobs.get(commit),
  });
  config = parseConfig({ GITHUB_URL: github.url, GITHUB_API_URL: github.apiUrl });
  await database.db.insert(users).values({ id: "u1", email: "ada@example.test", name: "Ada" });
  await putSecret(database.db, ring, "u1", "GITHUB_TOKEN", TOKEN);
}, 60_000);
afterAll(async () => {
  await github?.close();
  await database?.close();
});

/** A task whose session pushed `commits` in turns 1, 2, …; `prompts` says who prompted turns 2, 3, …. */
async function taskWithTurns(commits: string[], prompts: ("person" | "checks" | "ci")[] = []) {
  const id = `t_ci_${++n}`;
  const sessionId = `s_ci_${n}`;
  await database.db.insert(tasks).values({ id, userId: "u1", repository: `${github.url}/acme/widgets.git`, prompt: "p", agent: "script", status: "in_progress", branch: `agents/${id}`, baseBranch: "main" });
  await database.db.insert(taskTurns).values(commits.map((commit, i) => ({ taskId: id, sessionId, turn: i + 1, commitSha: commit, pushed: true })));
  if (prompts.length) await database.db.insert(taskMessages).values(prompts.map((author, i) => ({ taskId: id, clientId: `m${i}`, body: "fix", author, status: "delivered" as const, turn: i + 2 })));
  return { id, sessionId };
}

const failing = (log: string): DoubleCiJob => ({ kind: "check_run", name: "test", status: "completed", conclusion: "failure", log });

describe("a look at a commit's CI", () => {
  it("keeps the verdict on the turn, with the failing job's log end for the agent, read once per failure", async () => {
    const commit = sha("1");
    jobs.set(commit, [failing("2026-12-07T10:00:00.1234567Z \u001b[31mError: expected 2 to be 3\u001b[0m\r\n2026-12-07T10:00:01.0000000Z ##[error]exit 1\n\n"), { kind: "status", context: "lint", state: "success" }]);
    const { id, sessionId } = await taskWithTurns([commit]);
    const look = await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit });
    expect(look).toMatchObject({ kind: "looked", ci: { headCommit: commit, state: "failed", unwatched: null, error: null } });
    const kept = await turnCi(database.db, sessionId, 1);
    expect(kept?.excerpt).toBe(`test (failure) ${github.url}/acme/widgets/actions/runs/1/job/${kept!.checks[0]!.jobId}\nError: expected 2 to be 3\n##[error]exit 1`);
    const logReads = () => github.calls.filter((c) => c.path.includes("/logs")).length;
    const before = logReads();
    await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit });
    expect(logReads()).toBe(before);
  });

  it("takes no checks for pending within the grace when the base branch has CI, and for none when it has none", async () => {
    const commit = sha("2");
    const { id, sessionId } = await taskWithTurns([commit]);
    const grace = new Date(Date.now() + 60_000);
    expect(await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit, noChecksPendingUntil: grace })).toMatchObject({ ci: { state: "none" } });
    jobs.set(sha("0"), [{ kind: "check_run", name: "test", status: "completed", conclusion: "success" }]);
    expect(await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit, noChecksPendingUntil: grace })).toMatchObject({ ci: { state: "pending", checks: [] } });
    expect((await taskCi(database.db, id, sessionId, 3))?.summary).toBe(`waiting for CI to start on commit ${commit.slice(0, 12)}`);
    // Past the grace, no checks is no CI.
    expect(await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit, noChecksPendingUntil: new Date(Date.now() - 1) })).toMatchObject({ ci: { state: "none" } });
    jobs.delete(sha("0"));
  });

  it("says a transient failure is worth another look and a refusal is not", async () => {
    const commit = sha("3");
    const { id, sessionId } = await taskWithTurns([commit]);
    github.failNext({ status: 502 }, { status: 502 });
    expect(await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit })).toMatchObject({ kind: "unreadable", transient: true });
    github.failNext({ status: 403, body: { message: "Resource not accessible by personal access token" } }, { status: 403, body: { message: "Resource not accessible by personal access token" } });
    expect(await lookAtCi(source(), { taskId: id, sessionId, turn: 1, commit })).toMatchObject({ kind: "unreadable", transient: false, message: expect.stringContaining("403") });
  });
});

describe("CI rounds", () => {
  it("queue the system's follow-up once per failing turn, up to MAX_CI_ROUNDS, counted over check rounds too", async () => {
    const [a, b, c] = [sha("4"), sha("5"), sha("6")];
    for (const commit of [a, b, c]) jobs.set(commit, [failing("Error: still broken")]);
    // Turn 2 was CI's round, turn 3 the checks': CI's third look is round 2, not round 1 again.
    const { id, sessionId } = await taskWithTurns([a, b, c], ["ci", "checks"]);
    for (const [turn, commit] of [[1, a], [2, b], [3, c]] as const) await lookAtCi(source(), { taskId: id, sessionId, turn, commit });
    const view = await queueCiFollowup(database.db, { taskId: id, sessionId, maxRounds: 3, finishRequested: false });
    expect(view).toMatchObject({ turn: 3, round: 2, state: "fixing", summary: "CI failed (round 2 of 3): the agent was asked to fix it" });
    await queueCiFollowup(database.db, { taskId: id, sessionId, maxRounds: 3, finishRequested: false });
    const queued = (await database.db.select().from(taskMessages)).filter((m) => m.taskId === id && m.status === "queued");
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ author: "ci", clientId: `ci-${sessionId}-t3` });
    expect(queued[0]!.body).toContain("round 2 of 3");
    expect(queued[0]!.body).toContain("Error: still broken");
    // No rounds left, or the person asked to finish: nothing is queued and the words say so.
    expect(await queueCiFollowup(database.db, { taskId: id, sessionId, maxRounds: 2, finishRequested: false })).toMatchObject({ state: "failing", summary: "CI failing after 2 rounds (1 failing)" });
    expect(await queueCiFollowup(database.db, { taskId: id, sessionId, maxRounds: 3, finishRequested: true })).toMatchObject({ state: "failing" });
  });
});

describe("GitHub's webhook", () => {
  it("is taken only with the body's signature, and names the commit of a CI event", () => {
    const body = JSON.stringify({ check_run: { head_sha: sha("a") } });
    const signed = `sha256=${createHmac("sha256", "s3cret-s3cret-s3cret").update(body).digest("hex")}`;
    expect(validSignature("s3cret-s3cret-s3cret", body, signed)).toBe(true);
    expect(validSignature("s3cret-s3cret-s3cret", `${body} `, signed)).toBe(false);
    expect(validSignature("another-secret-entirely", body, signed)).toBe(false);
    expect(validSignature("s3cret-s3cret-s3cret", body, null)).toBe(false);
    expect(validSignature("s3cret-s3cret-s3cret", body, "sha1=abc")).toBe(false);
    expect(webhookCommit("check_run", JSON.parse(body))).toBe(sha("a"));
    expect(webhookCommit("check_suite", { check_suite: { head_sha: sha("b") } })).toBe(sha("b"));
    expect(webhookCommit("workflow_run", { workflow_run: { head_sha: sha("c") } })).toBe(sha("c"));
    expect(webhookCommit("status", { sha: sha("d"), state: "failure" })).toBe(sha("d"));
    expect(webhookCommit("push", { after: sha("e") })).toBeUndefined();
    expect(webhookCommit("check_run", { check_run: { head_sha: "not a sha" } })).toBeUndefined();
  });

  it("wakes only unfinished tasks watching that commit", async () => {
    const commit = sha("7");
    jobs.set(commit, []);
    const watching = await taskWithTurns([commit]);
    await lookAtCi(source(), { taskId: watching.id, sessionId: watching.sessionId, turn: 1, commit });
    await taskWithTurns([commit]); // pushed the same commit, never watched
    const ended = await taskWithTurns([commit]);
    await lookAtCi(source(), { taskId: ended.id, sessionId: ended.sessionId, turn: 1, commit });
    await database.db.update(tasks).set({ status: "completed" }).where(eq(tasks.id, ended.id));
    expect(await ciWatchers(database.db, commit)).toEqual([watching.id]);
  });
});

describe("a job log's end", () => {
  it("drops timestamps, colours and trailing blank lines, and keeps the last lines", () => {
    const log = Array.from({ length: 100 }, (_, i) => `2026-12-07T10:00:${String(i % 60).padStart(2, "0")}.0000000Z line ${i}`).join("\n") + "\n\n";
    const tail = logTail(log, 3);
    expect(tail).toBe("line 97\nline 98\nline 99");
  });
});
