import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commitOnBranch, git, makeRepo } from "../tests/harness/git";
import { silentLogger } from "./log";
import { Outbox } from "./outbox";
import { gone, startReceiver, startTestAgent, type TestAgentOptions, workspaceRequest } from "./test-support";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const workspace = workspaceRequest;

async function setup(overrides: TestAgentOptions = {}, answer?: (path: string, attempt: number) => number) {
  const receiver = await startReceiver(answer);
  const agent = await startTestAgent(receiver.url, overrides);
  cleanups.push(receiver.close, agent.close);
  return { receiver, agent };
}

describe("provisioning", () => {
  it("clones once for two concurrent requests of the same workspace", async () => {
    const { agent, receiver } = await setup();
    const repo = makeRepo();
    const answers = await Promise.all([agent.request("POST", "/workspaces", workspace(repo)), agent.request("POST", "/workspaces", workspace(repo))]);
    expect(answers.map((a) => a.status)).toEqual([202, 202]);
    await receiver.next(/w_1\/ready$/);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    expect((await receiver.next(/s_1\/completed$/)).body.outcome).toBe("succeeded");
    expect(receiver.attemptLog.filter((a) => /^\/api\/workspaces\/w_1\/(ready|provisioning-failed)$/.test(a.path))).toHaveLength(1);
    // One clone: its stage was reported once.
    const clones = receiver.received.filter((r) => r.path.endsWith("/boot-log")).flatMap((r) => r.body.stages as { stage: string; status: string }[]).filter((s) => s.stage === "clone" && s.status === "succeeded");
    expect(clones).toHaveLength(1);
  });

  it("reports a setup script that runs too long as failed at stage setup, and kills what it started", async () => {
    const { agent, receiver } = await setup({ SETUP_TIMEOUT: 500 });
    const script = 'sleep 600 &\necho $! > .setup-child.pid\necho "installing dependencies" >&2\nwait\n';
    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".agent/setup.sh": script })));
    const failed = await receiver.next(/w_1\/provisioning-failed$/);
    expect(failed.body).toMatchObject({ stage: "setup", error: expect.stringContaining("timed out after 500ms") });
    expect(failed.body.error).toContain("installing dependencies");
    // The boot log showed the output live and says the stage failed, with its duration.
    await receiver.until((r) => r.path.endsWith("/boot-log") && (r.body.stages as { status: string }[]).some((s) => s.status === "failed"));
    const boot = receiver.received.filter((r) => r.path.endsWith("/boot-log"));
    expect(boot.flatMap((r) => r.body.setupOutput as string[])).toContain("installing dependencies");
    expect(boot.flatMap((r) => r.body.stages as { stage: string; status: string; durationMs: number }[]).find((s) => s.status === "failed")).toMatchObject({ stage: "setup", durationMs: expect.any(Number) });
    const child = Number(fs.readFileSync(path.join(agent.workDir, "workspaces", "w_1", "repo", ".setup-child.pid"), "utf8"));
    expect(gone(child)).toBe(true);
    // A failed workspace takes no session.
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" })).status).toBe(409);
  });

  it("reports each stage with its duration and the setup script's output while it runs, before the ready callback", async () => {
    const { agent, receiver } = await setup();
    const script = 'echo "installing dependencies"\necho "warning: peer dep" >&2\nprintf "no newline at the end"\n';
    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".agent/setup.sh": script })));
    await receiver.next(/w_1\/ready$/);
    // Each report is its own message: wait until the last stage's and every output line have come.
    const boot = () => receiver.received.filter((r) => r.path === "/api/workspaces/w_1/boot-log");
    const lines = () => boot().flatMap((r) => r.body.setupOutput as string[]);
    const readyStage = () => boot().some((r) => (r.body.stages as { stage: string; status: string }[]).some((s) => s.stage === "ready" && s.status === "succeeded"));
    await receiver.until(() => readyStage() && lines().length === 3);
    const reports = boot();
    for (const report of reports) expect(report.authorization).toBe("Bearer callback-token-w1");
    // Reports may arrive in any order: the control plane orders stages by their sequence.
    const ended = reports.flatMap((r) => r.body.stages as { stage: string; status: string; durationMs: number | null; detail?: string; seq: number }[]).filter((s) => s.status !== "running").sort((a, b) => a.seq - b.seq);
    // A root node (as in CI) gives the workspace its own network before the setup script runs.
    const network = agent.agent.isolation().egress?.mode === "namespaces" ? ["network"] : [];
    expect(ended.map((s) => s.stage)).toEqual(["workspace-user", "clone", "branch", "git-identity", "git-credentials", "handover", ...network, "setup", "ready"]);
    for (const stage of ended) expect(stage).toMatchObject({ status: "succeeded", durationMs: expect.any(Number) });
    expect(ended.find((s) => s.stage === "setup")?.detail).toBe(".agent/setup.sh");
    expect(reports.flatMap((r) => r.body.setupOutput as string[]).sort()).toEqual(["installing dependencies", "no newline at the end", "warning: peer dep"]);
  });

  it("runs a dev container's postCreateCommand when the repository has no setup script, marked as a fallback", async () => {
    const { agent, receiver } = await setup();
    const devcontainer = `{
      // JSON with comments, as VS Code writes it
      "image": "mcr.microsoft.com/devcontainers/javascript-node:20",
      "postCreateCommand": { "deps": "echo deps > .deps-ran", "tools": ["sh", "-c", "echo tools >> .deps-ran"] },
    }`;
    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".devcontainer/devcontainer.json": devcontainer })));
    expect((await receiver.next(/w_1\/ready$/)).body).toMatchObject({ setupScript: "ran" });
    expect(fs.readFileSync(path.join(agent.workDir, "workspaces", "w_1", "repo", ".deps-ran"), "utf8")).toBe("deps\ntools\n");
    const setupStage = receiver.received.flatMap((r) => (r.path.endsWith("/boot-log") ? (r.body.stages as { stage: string; status: string; detail?: string }[]) : [])).find((s) => s.stage === "setup" && s.status === "succeeded");
    expect(setupStage?.detail).toMatch(/^\.devcontainer\/devcontainer\.json postCreateCommand \(fallback: this node runs no Docker engine/);
  });

  it("fails at stage setup naming a dev container file it cannot read", async () => {
    const { agent, receiver } = await setup();
    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".devcontainer.json": '{ "postCreateCommand": 42 }' })));
    expect((await receiver.next(/w_1\/provisioning-failed$/)).body).toMatchObject({ stage: "setup", error: expect.stringContaining(".devcontainer.json: postCreateCommand must be") });
  });

  it("starts the task's branch from the repository's branch it names, or its default branch, and reports which", async () => {
    const { agent, receiver } = await setup();
    const repo = makeRepo();
    const releaseHead = commitOnBranch(repo, "release/1.x", { "RELEASE.md": "1.x\n" });
    await agent.request("POST", "/workspaces", workspace(repo, { baseBranch: "release/1.x" }));
    const ready = await receiver.next(/w_1\/ready$/);
    expect(ready.body).toMatchObject({ branch: "agents/test-1", baseBranch: "release/1.x", baseCommit: releaseHead });

    await agent.request("POST", "/workspaces", workspace(repo, { workspaceId: "w_2", branch: "agents/test-2" }));
    const byDefault = await receiver.next(/w_2\/ready$/);
    expect(byDefault.body).toMatchObject({ baseBranch: "main", baseCommit: git(repo, "rev-parse", "main") });
  });

  it("continues the task's branch where the repository has it already (an earlier attempt pushed it)", async () => {
    const { agent, receiver } = await setup();
    const repo = makeRepo();
    const pushed = commitOnBranch(repo, "agents/test-1", { "EARLIER.md": "pushed by attempt 1\n" });
    await agent.request("POST", "/workspaces", workspace(repo));
    const ready = await receiver.next(/w_1\/ready$/);
    expect(ready.body).toMatchObject({ branch: "agents/test-1", baseBranch: "main", baseCommit: pushed });
  });

  it("fails at stage branch naming the repository's branches when the base branch is not one of them", async () => {
    const { agent, receiver } = await setup();
    const repo = makeRepo();
    git(repo, "branch", "develop");
    // A tag and a commit are not branches; neither is a branch of the node's own clone only.
    git(repo, "tag", "v1");
    await agent.request("POST", "/workspaces", workspace(repo, { baseBranch: "v1" }));
    const failed = await receiver.next(/w_1\/provisioning-failed$/);
    expect(failed.body).toMatchObject({ stage: "branch", error: "the repository has no branch v1; its branches: develop, main" });
  });

  it("reports a repository that cannot be cloned at stage clone", async () => {
    const { agent, receiver } = await setup();
    await agent.request("POST", "/workspaces", workspace("file:///nonexistent/repo.git"));
    const failed = await receiver.next(/w_1\/provisioning-failed$/);
    expect(failed.body).toMatchObject({ stage: "clone", error: expect.stringContaining("git clone failed") });
  });

  it("refuses a local path that is not a git repository with 422 on repository", async () => {
    const { agent } = await setup();
    const plain = fs.mkdtempSync(path.join(os.tmpdir(), "plain-"));
    cleanups.push(async () => fs.rmSync(plain, { recursive: true, force: true }));
    const answer = await agent.request("POST", "/workspaces", workspace(plain));
    expect(answer).toMatchObject({ status: 422, body: { field: "repository", error: expect.stringContaining("does not exist") } });
  });

  it("refuses a repository inside its own work folder (a workspace's worktree) with 422 on repository", async () => {
    const { agent, receiver } = await setup();
    await agent.request("POST", "/workspaces", workspace(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    const worktree = path.join(agent.workDir, "workspaces", "w_1", "repo");
    for (const repository of [worktree, path.join(agent.workDir, "workspaces", "w_1", "..", "w_1", "repo")]) {
      const answer = await agent.request("POST", "/workspaces", workspace(repository, { workspaceId: "w_2" }));
      expect(answer).toMatchObject({ status: 422, body: { field: "repository", error: expect.stringContaining("work folder") } });
    }
  });

  it("answers bad input with 400 or 422, never 500", async () => {
    const { agent } = await setup();
    const bad = [
      await agent.request("POST", "/workspaces/%E0%A4%A/stop", {}),
      await agent.request("POST", "/workspaces/..%2Fx/agent-sessions/s_1/start", {}),
      await agent.request("POST", "/workspaces/w_1/agent-sessions/..%2Fs/start", {}),
      await agent.request("POST", "/workspaces", { ...workspace(makeRepo()), gitIdentity: { name: "x", email: "not-an-email" } }),
      await agent.request("POST", "/workspaces", ["not", "an", "object"]),
    ];
    expect(bad.map((b) => b.status)).toEqual([400, 400, 400, 422, 400]);
    expect(bad.map((b) => b.body.field)).toEqual(["workspaceId", "workspaceId", "sessionId", "gitIdentity.email", undefined]);
    const raw = await agent.fetch("/workspaces", { method: "POST", headers: { authorization: `Bearer ${await agent.token()}` }, body: "{not json" });
    expect(raw.status).toBe(400);
  });
});

describe("callback delivery", () => {
  it("does not retry a callback the control plane refuses with 400", async () => {
    const { agent, receiver } = await setup({}, (p) => (p.endsWith("/ready") ? 400 : 200));
    const repo = makeRepo();
    await agent.request("POST", "/workspaces", workspace(repo));
    const refused = await receiver.attempt(/w_1\/ready$/);
    expect(refused.status).toBe(400);
    expect(await agent.outbox.settled(String(refused.body.messageId))).toBe("refused");
    expect(receiver.attempts.get("/api/workspaces/w_1/ready")).toBe(1);
    expect(refused.body).toMatchObject({ branch: "agents/test-1", baseCommit: git(repo, "rev-parse", "HEAD") });
  });

  it.each([408, 429, 503])("retries %i with backoff until it is delivered", async (status) => {
    const receiver = await startReceiver((_, attempt) => (attempt < 3 ? status : 200));
    cleanups.push(receiver.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-outbox-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const outbox = new Outbox(dir, receiver.url, { maxAttempts: 5, maxElapsedMs: 10_000, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 2_000 }, silentLogger);
    cleanups.push(async () => outbox.close());
    outbox.enqueue("m_1", "/api/x", "token", { messageId: "m_1" });
    expect(await outbox.settled("m_1")).toBe("delivered");
    expect(receiver.attempts.get("/api/x")).toBe(3);
    expect(receiver.received[0]!.authorization).toBe("Bearer token");
  });

  it("gives up after the configured number of attempts", async () => {
    const receiver = await startReceiver(() => 503);
    cleanups.push(receiver.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-outbox-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const outbox = new Outbox(dir, receiver.url, { maxAttempts: 3, maxElapsedMs: 10_000, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 2_000 }, silentLogger);
    cleanups.push(async () => outbox.close());
    outbox.enqueue("m_1", "/api/x", "token", { messageId: "m_1" });
    expect(await outbox.settled("m_1")).toBe("gave_up");
    expect(receiver.attempts.get("/api/x")).toBe(3);
    expect(fs.existsSync(path.join(dir, "dead", "m_1.json"))).toBe(true);
  });

  it("delivers the messages of one lane in the order they were enqueued, one at a time, a retried one holding back those after it", async () => {
    const receiver = await startReceiver((p, attempt) => (p === "/api/lane/1" && attempt === 1 ? 503 : 200));
    cleanups.push(receiver.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-outbox-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const outbox = new Outbox(dir, receiver.url, { maxAttempts: 5, maxElapsedMs: 10_000, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 2_000 }, silentLogger);
    cleanups.push(async () => outbox.close());
    for (const n of [1, 2, 3]) outbox.enqueue(`m_${n}`, `/api/lane/${n}`, "token", { messageId: `m_${n}` }, { lane: "session" });
    outbox.enqueue("m_free", "/api/free", "token", { messageId: "m_free" });
    expect(await outbox.settled("m_3")).toBe("delivered");
    expect(await outbox.settled("m_free")).toBe("delivered");
    // Every attempt of the lane, in order: the first one's retry comes before the second is tried.
    expect(receiver.attemptLog.filter((a) => a.path.startsWith("/api/lane/")).map((a) => `${a.path}:${a.status}`)).toEqual([
      "/api/lane/1:503",
      "/api/lane/1:200",
      "/api/lane/2:200",
      "/api/lane/3:200",
    ]);
    // A message outside the lane is not held back by it.
    expect(receiver.attemptLog.findIndex((a) => a.path === "/api/free")).toBeLessThan(receiver.attemptLog.findIndex((a) => a.path === "/api/lane/2"));
  });

  it("resumes a lane in its order after a restart", async () => {
    const receiver = await startReceiver();
    cleanups.push(receiver.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-outbox-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const policy = { maxAttempts: 5, maxElapsedMs: 10_000, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 2_000 };
    const before = new Outbox(dir, receiver.url, policy, silentLogger);
    // Closed first, as a daemon killed before it sent anything: every message stays on disk.
    before.close();
    // Ids that sort otherwise than they were enqueued, as output batches' byte offsets do.
    const ids = ["m_5", "m_30", "m_100", "m_2", "m_4000", "m_1"];
    ids.forEach((id, n) => before.enqueue(id, `/api/lane/${n + 1}`, "token", { messageId: id }, { lane: "session" }));
    const after = new Outbox(dir, receiver.url, policy, silentLogger);
    cleanups.push(async () => after.close());
    after.start();
    expect(await after.settled("m_1")).toBe("delivered");
    expect(receiver.attemptLog.map((a) => a.path)).toEqual([1, 2, 3, 4, 5, 6].map((n) => `/api/lane/${n}`));
  });

  it("sends what it gave up on again once the control plane answers, but not what it refused", async () => {
    let down = true;
    const receiver = await startReceiver((p) => (down ? 503 : p === "/api/refused" ? 409 : 200));
    cleanups.push(receiver.close);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-outbox-"));
    cleanups.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
    const outbox = new Outbox(dir, receiver.url, { maxAttempts: 2, maxElapsedMs: 10_000, baseDelayMs: 5, maxDelayMs: 20, requestTimeoutMs: 2_000 }, silentLogger);
    cleanups.push(async () => outbox.close());
    outbox.enqueue("m_ready", "/api/ready", "token", { messageId: "m_ready" });
    expect(await outbox.settled("m_ready")).toBe("gave_up");
    down = false;
    outbox.enqueue("m_refused", "/api/refused", "token", { messageId: "m_refused" });
    expect(await outbox.settled("m_refused")).toBe("refused");

    expect(outbox.retryGivenUp()).toBe(1);
    expect(await outbox.settled("m_ready")).toBe("delivered");
    expect(receiver.received.filter((r) => r.path === "/api/ready").at(-1)!.body).toEqual({ messageId: "m_ready" });
    expect(receiver.attempts.get("/api/refused")).toBe(1);
    expect(fs.existsSync(path.join(dir, "dead", "m_ready.json"))).toBe(false);
    expect(outbox.retryGivenUp()).toBe(0);
  });
});
