/**
 * A task as a conversation, end to end: after the agent's turn the run waits for a follow-up; a
 * message sent while the agent works is queued and delivered when the turn ends, to the same
 * session, as the next turn on the same branch; "finish now" and the idle timeout complete it.
 */
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskDetail } from "@/lib/contracts/api";
import { startAnthropicDouble } from "../doubles/anthropic-api";
import { startGithubWithRepository } from "../doubles/github-rest";
import { startResponsesDouble } from "../doubles/openai-responses";
import { git, makeRepo } from "../harness/git";
import { GATED_AGENT_COMMAND, newGate, untilAgentWaits } from "../harness/gated-agent";
import { untilFinished, untilTask, watchTask } from "../harness/live-client";
import { hostAddress } from "../harness/host-address";
import { startTestSystem, type TestSystem } from "../harness/test-system";

const execFileAsync = promisify(execFile);

async function submit(system: TestSystem, repository: string, prompt: string) {
  const { status, body } = await system.api("POST", "/api/tasks", { repository, prompt });
  expect(status, JSON.stringify(body)).toBe(202);
  return body as { taskId: string; branch: string };
}

const until = (system: TestSystem, taskId: string, predicate: (t: TaskDetail) => boolean, what: string) => untilTask(system, taskId, predicate, what, 60_000);

/** A test system whose repositories live on the GitHub double (its git and REST API on one HTTPS host), with the person's token stored. */
async function startGithubSystem(token: string, env: Record<string, string>) {
  const github = await startGithubWithRepository({ token });
  const system = await startTestSystem({
    ...env,
    ...github.systemEnv,
  });
  expect((await system.api("PUT", "/api/secrets/GITHUB_TOKEN", { value: token })).status).toBe(200);
  return { github, system };
}

const awaiting = (t: TaskDetail) => t.status === "in_progress" && t.executionStep === "awaiting_followup" && t.idleUntil !== null;

describe("follow-ups", () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND, SESSION_IDLE_TIMEOUT: "10m" });
  });
  afterAll(async () => system?.stop());

  it("queue while the agent works, reach the same session as its next turn on the same branch, and 'finish now' completes the task", async () => {
    const repo = makeRepo();
    const first = newGate("first turn");
    const { taskId, branch } = await submit(system, repo, first.prompt);
    await untilAgentWaits(system, taskId);

    // Sent while the first turn works: stored and queued; a resend with its client id is the same message.
    const second = newGate("second turn");
    const sent = await system.api("POST", `/api/tasks/${taskId}/messages`, { body: second.prompt, clientId: "m-1" });
    expect(sent).toMatchObject({ status: 202, body: { message: { clientId: "m-1", body: second.prompt, status: "queued", turn: null } } });
    const resent = await system.api("POST", `/api/tasks/${taskId}/messages`, { body: second.prompt, clientId: "m-1" });
    expect(resent.body).toEqual(sent.body);
    expect((await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "   " })).status).toBe(422);

    // The first turn ends: the message goes to the session as turn 2, without waiting for the idle timeout.
    first.open();
    const delivered = await until(system, taskId, (t) => t.messages[0]?.status === "delivered" && t.output.lines.some((l) => l.includes(`agent waiting for ${second.prompt.split(" ")[0]}`)), "the follow-up delivered");
    expect(delivered.messages).toEqual([expect.objectContaining({ clientId: "m-1", status: "delivered", turn: 2 })]);
    expect(delivered.executionStep).toBe("running");
    const firstCommit = git(repo, "rev-parse", branch);
    expect(git(repo, "show", `${branch}:agent-result.txt`)).toContain("first turn");

    // The second turn ends: the run waits for a follow-up, the idle deadline set.
    second.open();
    const idle = await until(system, taskId, (t) => awaiting(t) && t.commit !== firstCommit, "waiting after turn 2");
    expect(Date.parse(idle.idleUntil!)).toBeGreaterThan(Date.now() + 9 * 60_000);
    expect(git(repo, "rev-parse", branch)).toBe(idle.commit);
    expect(git(repo, "rev-parse", `${branch}^`)).toBe(firstCommit);
    expect(git(repo, "show", `${branch}:agent-result.txt`)).toContain("second turn");
    expect(idle.session?.id).toBe(delivered.session?.id);

    expect(await system.api("POST", `/api/tasks/${taskId}/finish`)).toEqual({ status: 202, body: { taskId, finishing: true } });
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.finishRequested).toBe(true);
    expect(done.steps.find((s) => s.step === "awaiting_followup")).toMatchObject({ status: "succeeded", detail: "finished by the person" });
    expect(await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "too late" })).toMatchObject({ status: 409 });
  });
});

describe("a task on a GitHub repository", () => {
  const TOKEN = "ghp_followup_pull_request";
  let system: TestSystem;
  let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
  beforeAll(async () => {
    ({ github, system } = await startGithubSystem(TOKEN, { SESSION_IDLE_TIMEOUT: "10m", FORGE_RETRY_BACKOFF: "1s" }));
  });
  afterAll(async () => {
    await system?.stop();
    await github?.close();
  });

  /** A branch made in the served repository itself (no network: the server lives in this process). */
  function pushBranch(served: typeof github, name: string) {
    git(served.git.bare, "branch", name, "main");
  }

  /** Someone else pushes to the task's branch while the agent works on it (async: the server lives in this process). */
  async function pushForeignCommit(branch: string) {
    const clone = fs.mkdtempSync(path.join(os.tmpdir(), "acp-foreign-"));
    const trust = { env: { ...process.env, GIT_SSL_CAINFO: github.caFile } };
    const auth = ["-c", `http.extraHeader=Authorization: Basic ${Buffer.from(`x-access-token:${TOKEN}`).toString("base64")}`];
    try {
      await execFileAsync("git", [...auth, "clone", "-q", "--branch", branch, github.repository, clone], trust);
      fs.writeFileSync(path.join(clone, "REVIEW.md"), "a reviewer's note\n");
      git(clone, "add", "REVIEW.md");
      git(clone, "-c", "user.name=Reviewer", "-c", "user.email=reviewer@example.test", "commit", "-q", "-m", "Reviewer's note");
      await execFileAsync("git", ["-C", clone, ...auth, "push", "-q", "origin", branch], trust);
      return git(clone, "rev-parse", "HEAD");
    } finally {
      fs.rmSync(clone, { recursive: true, force: true });
    }
  }

  it("lists a repository's branches for the submit form: a GitHub one through its API, a local one through git", async () => {
    const branches = (repository: string) => system.api("GET", `/api/repositories/branches?repository=${encodeURIComponent(repository)}`);
    pushBranch(github, "release/2.0");
    expect(await branches(github.repository)).toEqual({ status: 200, body: { listed: true, branches: expect.arrayContaining(["main", "release/2.0"]), defaultBranch: "main", truncated: false } });
    const local = makeRepo();
    git(local, "branch", "develop");
    expect(await branches(local)).toEqual({ status: 200, body: { listed: true, branches: ["develop", "main"], defaultBranch: "main", truncated: false } });
    // Another host: not known here, the node checks the name after its clone.
    expect(await branches("https://git.example.test/team/app.git")).toEqual({ status: 200, body: { listed: false, branches: [], defaultBranch: null, truncated: false } });
    expect(await branches("/nonexistent/repo")).toMatchObject({ status: 422, body: { field: "repository", error: expect.stringContaining("is not a git repository") } });
    expect(await system.api("GET", "/api/repositories/branches")).toMatchObject({ status: 422, body: { field: "repository" } });
  });

  it("opens one draft pull request on the first turn, updates it on the next (rebased onto a moved branch), and links it", async () => {
    const { taskId, branch } = await submit(system, github.repository, "Write the release notes");
    const first = await until(system, taskId, (t) => awaiting(t) && t.pullRequest?.state === "draft", "turn 1 with its draft pull request");
    expect(github.pulls).toHaveLength(1);
    const pull = github.pulls[0]!;
    expect(pull).toMatchObject({ owner: "org", repo: "repo", head: branch, base: "main", draft: true, title: "Write the release notes" });
    expect(pull.body).toContain(`${system.appUrl}/tasks/${taskId}`);
    // The turn's summary: the files it changed.
    expect(pull.body).toMatch(/\*\*After turn 1\*\*: 2 files changed, \+\d+ −0/);
    expect(pull.body).toContain("`.agent/log.md` +1 −0");
    expect(first.pullRequest).toMatchObject({ repository: "org/repo", number: pull.number, url: `${github.webUrl}/org/repo/pull/${pull.number}`, error: null });
    expect(github.git.branch(branch)).toBe(first.commit);
    expect(git(github.git.bare, "log", "-1", "--format=%(trailers:key=Agent-Task,valueonly)", branch)).toBe(`${system.appUrl}/tasks/${taskId}`);

    // The branch moves under the agent; the follow-up's turn is rebased onto it, not forced over it.
    const theirs = await pushForeignCommit(branch);
    expect((await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "Also list the fixes" })).status).toBe(202);
    const second = await until(system, taskId, (t) => awaiting(t) && t.commit !== first.commit && t.messages[0]?.status === "delivered", "turn 2 pushed");
    expect(second.pushed).toBe(true);
    expect(github.git.branch(branch)).toBe(second.commit);
    expect(git(github.git.bare, "rev-parse", `${branch}~1`)).toBe(theirs);
    expect(git(github.git.bare, "show", `${branch}:REVIEW.md`)).toBe("a reviewer's note");

    // Still the one pull request, its body updated with the follow-up.
    expect(github.pulls).toHaveLength(1);
    expect(github.calls.filter((c) => c.method === "POST")).toHaveLength(1);
    expect(pull.body).toContain("turn 2: Also list the fixes");
    expect(second.pullRequest).toMatchObject({ number: pull.number, state: "draft" });

    expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.pullRequest).toMatchObject({ number: pull.number, url: pull && `${github.webUrl}/org/repo/pull/${pull.number}` });
  });

  it("opens the pull request after GitHub's 5xx, the run sleeping between tries", async () => {
    github.failNext({ status: 502, body: { message: "Server Error" } }, { status: 503, body: { message: "Service Unavailable" } });
    const { taskId, branch } = await submit(system, github.repository, "Survive a GitHub outage");
    const watch = await watchTask(system, taskId);
    try {
      // While GitHub fails, the task says so and when it tries again; then the pull request is there.
      const failing = await watch.until((t) => /GitHub answered 50[23].*trying again at/.test(t.pullRequest?.error ?? ""), 60_000, "the retry noted");
      expect(failing.pullRequest?.number).toBeNull();
      const opened = await watch.until((t) => t.pullRequest?.state === "draft", 60_000, "the pull request opened");
      expect(opened.pullRequest).toMatchObject({ error: null });
    } finally {
      watch.close();
    }
    expect(github.pulls.filter((p) => p.head === branch)).toHaveLength(1);
    expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
  });
});

describe("an idle task", () => {
  let system: TestSystem;
  beforeAll(async () => {
    system = await startTestSystem({ SESSION_IDLE_TIMEOUT: "2s" });
  });
  afterAll(async () => system?.stop());

  it("completes once SESSION_IDLE_TIMEOUT passes without a follow-up", async () => {
    const repo = makeRepo();
    const { taskId, branch } = await submit(system, repo, "Write the notes");
    await until(system, taskId, awaiting, "waiting for a follow-up");
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.finishRequested).toBe(false);
    expect(done.idleUntil).toBeNull();
    expect(done.steps.find((s) => s.step === "awaiting_followup")).toMatchObject({ status: "succeeded", detail: "no follow-up within the idle timeout" });
    expect(git(repo, "rev-parse", branch)).toBe(done.commit);
    expect(fs.existsSync(path.join(repo, ".git"))).toBe(true);
  });
});

/**
 * A real CLI's round trip on the GitHub double: turn 1 writes PLAN.md, the follow-up "Now do it"
 * makes turn 2 write DONE.md on the same branch; the caller checks what the model saw.
 */
async function twoTurns(system: TestSystem, github: Awaited<ReturnType<typeof startGithubWithRepository>>, agent: "claude-code" | "codex") {
  const { status, body } = await system.api("POST", "/api/tasks", { repository: github.repository, prompt: "Write the plan", agent });
  expect(status, JSON.stringify(body)).toBe(202);
  const { taskId, branch } = body as { taskId: string; branch: string };
  const first = await until(system, taskId, awaiting, "waiting after turn 1");
  expect(git(github.git.bare, "show", `${branch}:PLAN.md`)).toBe("first");

  expect((await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "Now do it" })).status).toBe(202);
  const second = await until(system, taskId, (t) => awaiting(t) && t.commit !== first.commit && t.messages[0]?.status === "delivered", "waiting after turn 2");
  expect(git(github.git.bare, "show", `${branch}:DONE.md`)).toBe("second");
  expect(git(github.git.bare, "rev-parse", `${branch}^`)).toBe(first.commit);
  return { taskId, branch, first, second };
}

/** Finish now, then: completed, both turns in one draft pull request whose body names the follow-up. */
async function finishWithOnePullRequest(system: TestSystem, github: Awaited<ReturnType<typeof startGithubWithRepository>>, taskId: string, branch: string) {
  expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
  const { done } = await untilFinished(system, taskId, 60_000);
  expect(done.status, done.error ?? "").toBe("completed");
  expect(github.pulls).toHaveLength(1);
  expect(github.pulls[0]).toMatchObject({ head: branch, draft: true });
  expect(github.pulls[0]!.body).toContain("turn 2: Now do it");
  expect(done.pullRequest).toMatchObject({ number: github.pulls[0]!.number, state: "draft" });
}

describe("a follow-up to the real Claude Code CLI", () => {
  let system: TestSystem;
  let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
  let model: Awaited<ReturnType<typeof startAnthropicDouble>>;
  beforeAll(async () => {
    model = await startAnthropicDouble([
      { kind: "tool_use", name: "Bash", input: { command: "printf 'first\\n' > PLAN.md", description: "Write the plan" } },
      { kind: "text", text: "Wrote PLAN.md." },
      { kind: "tool_use", name: "Bash", input: { command: "printf 'second\\n' > DONE.md", description: "Do it" } },
      { kind: "text", text: "Wrote DONE.md." },
    ], hostAddress());
    ({ github, system } = await startGithubSystem("ghp_claude_followup", { EGRESS_ALLOW_PRIVATE: hostAddress(), ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: model.url, SESSION_IDLE_TIMEOUT: "10m" }));
  });
  afterAll(async () => {
    await system?.stop();
    await model?.close();
    await github?.close();
  });

  it("resumes the same conversation as its second turn, on the same branch", async () => {
    const { taskId, branch, first, second } = await twoTurns(system, github, "claude-code");
    // The follow-up's request to the model carries the first turn: the CLI resumed its conversation.
    const followUp = model.mainRequests().find((r) => JSON.stringify(r.messages).includes("Now do it"))!;
    const conversation = JSON.stringify(followUp.messages);
    expect(conversation).toContain("Write the plan");
    expect(conversation).toContain("Wrote PLAN.md.");
    expect(second.session?.id).toBe(first.session?.id);
    await finishWithOnePullRequest(system, github, taskId, branch);
  });
});

describe("a follow-up to the real Codex CLI", () => {
  let system: TestSystem;
  let github: Awaited<ReturnType<typeof startGithubWithRepository>>;
  let model: Awaited<ReturnType<typeof startResponsesDouble>>;
  beforeAll(async () => {
    model = await startResponsesDouble([
      { kind: "function_call", name: "exec_command", arguments: { cmd: "printf 'first\\n' > PLAN.md" } },
      { kind: "text", text: "Wrote PLAN.md." },
      { kind: "function_call", name: "exec_command", arguments: { cmd: "printf 'second\\n' > DONE.md" } },
      { kind: "text", text: "Wrote DONE.md." },
    ], hostAddress());
    ({ github, system } = await startGithubSystem("ghp_codex_followup", { EGRESS_ALLOW_PRIVATE: hostAddress(), OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: model.url, SESSION_IDLE_TIMEOUT: "10m" }));
  });
  afterAll(async () => {
    await system?.stop();
    await model?.close();
    await github?.close();
  });

  it("resumes the same thread as its second turn, on the same branch", async () => {
    const { taskId, branch } = await twoTurns(system, github, "codex");
    // `codex exec resume` sends the earlier turn with the follow-up.
    const followUp = model.requests.find((r) => JSON.stringify(r.input).includes("Now do it"))!;
    expect(JSON.stringify(followUp.input)).toContain("Write the plan");
    await finishWithOnePullRequest(system, github, taskId, branch);
  });
});
