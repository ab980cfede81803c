/**
 * The pull request's CI, fed back to the agent, end to end: the real app, engine, database and a
 * local node, a repository on the GitHub double (git and REST on one HTTPS host) whose CI runs on
 * every pushed commit. CI fails while a file named FIXED is missing; the agent adds it when the
 * system's follow-up quotes the failing job's log. The run looks again on its own (durable sleeps
 * between looks), and a signed webhook wakes it at once.
 */
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskDetail, TaskRecord } from "@/lib/contracts/api";
import { commitHas, failingUntilFixed, startGithubWithRepository, type DoubleCiJob } from "../doubles/github-rest";
import { untilFinished, untilTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

const TOKEN = "ghp_ci_feedback";
const WEBHOOK_SECRET = "ci-webhook-secret-for-tests";
/** How long a commit's CI job runs in the double before it ends (so the run sees it pending first). */
const CI_RUNS_MS = 1_500;

/** The agent: `run:` prompts are shell; the system's CI follow-up that quotes "FIXED is missing" makes it add FIXED. */
const AGENT = ['case "$AGENT_PROMPT" in', '  run:*) eval "${AGENT_PROMPT#run:}" ;;', '  *"FIXED is missing"*) touch FIXED ;;', "  *) echo unexpected >> ATTEMPTS ;;", "esac"].join("\n");

/** The double's CI: one Actions job per commit, which fails while FIXED is missing; a commit with HOLD_CI never ends. */
function repositoryCi(firstAsked: Map<string, number>) {
  return (git: { bare: string }, sha: string): DoubleCiJob[] => {
    if (!firstAsked.has(sha)) firstAsked.set(sha, Date.now());
    if (commitHas(git, sha, "HOLD_CI") || Date.now() - firstAsked.get(sha)! < CI_RUNS_MS) return [{ kind: "check_run", name: "test", status: "in_progress" }];
    return failingUntilFixed(git, sha);
  };
}

let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
let system: TestSystem;
const firstAsked = new Map<string, number>();

beforeAll(async () => {
  github = await startGithubWithRepository({ token: TOKEN, ci: repositoryCi(firstAsked) });
  system = await startTestSystem({
    SCRIPT_AGENT_COMMAND: AGENT,
    SESSION_IDLE_TIMEOUT: "10m",
    ...github.systemEnv,
    // Looks a second apart: the job runs 1.5 s, so the run sees it pending, sleeps, and looks again.
    CI_POLL_INTERVAL: "1s",
    CI_POLL_MAX: "2s",
    GITHUB_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
  expect((await system.api("PUT", "/api/secrets/GITHUB_TOKEN", { value: TOKEN })).status).toBe(200);
});
afterAll(async () => {
  await system?.stop();
  await github?.close();
});

const until = (taskId: string, predicate: (t: TaskDetail) => boolean, what: string) => untilTask(system, taskId, predicate, what, 90_000);
const waitingForThePerson = (t: TaskDetail) => t.executionStep === "awaiting_followup" && !t.messages.some((m) => m.status === "queued");

function webhook(event: string, payload: unknown, secret = WEBHOOK_SECRET) {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;
  return system.api("POST", "/api/webhooks/github", body, { "x-github-event": event, "x-hub-signature-256": signature, "content-type": "application/json" });
}

describe("the pull request's CI", () => {
  it("fails once, goes back to the agent with its job's log, passes in round 2; the pull request's page shows it", async () => {
    const { body } = await system.api("POST", "/api/tasks", { repository: github.repository, prompt: "run:echo notes > NOTES.md" });
    const taskId = body.taskId as string;

    // The first commit's CI is seen running before it ends.
    const running = await until(taskId, (t) => t.ci?.state === "pending" && t.executionStep === "awaiting_ci", "CI running on turn 1");
    expect(running.ci).toMatchObject({ turn: 1, result: { headCommit: running.commit, state: "pending" } });
    expect(running.status).toBe("in_progress");

    const passed = await until(taskId, (t) => t.ci?.state === "passed" && waitingForThePerson(t), "CI passed in round 2");
    expect(passed.ci).toMatchObject({ turn: 2, round: 2, maxRounds: 3, summary: "CI passed (round 2)", result: { state: "passed", headCommit: passed.commit } });
    expect(passed.ci!.result.checks).toEqual([
      expect.objectContaining({ kind: "check_run", name: "test", state: "passed", conclusion: "success" }),
      expect.objectContaining({ kind: "status", name: "ci/lint", state: "passed" }),
    ]);
    // The system's follow-up named the failing job and quoted its log, without GitHub's timestamps.
    expect(passed.messages).toHaveLength(1);
    const [followup] = passed.messages;
    expect(followup).toMatchObject({ author: "ci", status: "delivered", turn: 2 });
    expect(followup!.body).toContain("round 1 of 3");
    expect(followup!.body).toContain("test");
    expect(followup!.body).toContain("Error: FIXED is missing");
    expect(followup!.body).not.toMatch(/2026-12-07T10:00/);
    // Each watch is a step of its own on the timeline.
    expect(passed.steps.find((s) => s.step === "awaiting_ci")).toMatchObject({ status: "succeeded", detail: "CI passed (round 2)" });
    // One pull request, at the fixed commit.
    const pulls = github.pulls.filter((p) => p.head === passed.branch);
    expect(pulls).toHaveLength(1);
    expect(github.git.branch(passed.branch)).toBe(passed.commit);

    expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status).toBe("completed");
    expect(done.ci?.summary).toBe("CI passed (round 2)");

    // The whole record keeps both rounds' CI, the failing log's end among them, and the system's follow-up.
    const record = (await system.api("GET", `/api/tasks/${taskId}/record`)).body as TaskRecord;
    expect(record.attempts).toHaveLength(1);
    expect(record.attempts[0]!.turns.map((t) => [t.turn, t.ci?.state])).toEqual([
      [1, "failed"],
      [2, "passed"],
    ]);
    expect(record.attempts[0]!.turns[0]!.ci!.excerpt).toContain("Error: FIXED is missing");
    expect(record.messages.map((m) => m.author)).toEqual(["ci"]);
    expect(record.pullRequest).toMatchObject({ number: pulls[0]!.number });
    const everything = await fetch(`${system.appUrl}/api/tasks/${taskId}/output?attempt=all&format=text`, { headers: system.authHeaders });
    expect(everything.status).toBe(200);
    expect(everything.headers.get("content-disposition")).toContain(`task-${taskId}-all-attempts-output.txt`);
    expect(await everything.text()).toMatch(/^=== attempt 1 ===\n/);
    expect(await system.api("GET", `/api/tasks/${taskId}/output?attempt=all`)).toMatchObject({ status: 422, body: { field: "attempt" } });
  });

  it("is not waited out: a task is not completed while CI runs, until the person finishes it; a signed webhook wakes the watch", async () => {
    const { body } = await system.api("POST", "/api/tasks", { repository: github.repository, prompt: "run:touch HOLD_CI FIXED" });
    const taskId = body.taskId as string;
    const watching = await until(taskId, (t) => t.ci?.state === "pending" && t.executionStep === "awaiting_ci", "CI running");
    expect(watching.status).toBe("in_progress");
    expect(watching.idleUntil).toBeNull();

    // GitHub's deliveries: a bad signature is refused naming the header; a check run on the watched commit wakes this task.
    expect(await webhook("check_run", { check_run: { head_sha: watching.commit } }, "not-the-secret-at-all")).toMatchObject({ status: 401, body: { field: "x-hub-signature-256" } });
    expect(await webhook("check_run", { action: "completed", check_run: { head_sha: watching.commit } })).toEqual({ status: 202, body: { woken: [taskId] } });
    expect(await webhook("status", { sha: "f".repeat(40), state: "success" })).toEqual({ status: 202, body: { woken: [] } });
    expect(await webhook("push", { after: watching.commit })).toEqual({ status: 202, body: { woken: [] } });
    // Woken, it looked again, and CI still runs: the task still waits for it.
    const still = await until(taskId, (t) => t.ci !== null && t.ci.result.checkedAt > watching.ci!.result.checkedAt, "a look after the webhook");
    expect(still).toMatchObject({ status: "in_progress", executionStep: "awaiting_ci", ci: { state: "pending" } });

    expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status).toBe("completed");
    expect(done.ci).toMatchObject({ state: "unwatched", summary: expect.stringContaining("the task was finished"), result: { state: "pending", unwatched: "finish" } });
  });
});
