import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay, isPermanent } from "./callbacks";
import { git, makeRepo } from "../tests/harness/git";
import { CONTRACT_VERSION, HealthResponse, PublicHealthResponse } from "../lib/contracts/vm-agent";
import { startReceiver, startTestAgent, waitForFile } from "./test-support";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function setup(overrides = {}, answer?: (path: string, attempt: number) => number) {
  const receiver = await startReceiver(answer);
  const agent = await startTestAgent(receiver.url, overrides);
  cleanups.push(receiver.close, agent.close);
  return { receiver, agent };
}

const workspace = (repository: string, id = "w_1", branch = "agents/test-1") => ({
  workspaceId: id,
  taskId: "t_1",
  repository,
  branch,
  callbackToken: "callback-token-w1",
});

describe("authentication", () => {
  it("answers /health without a token with the status alone, and the details only to a token for this node", async () => {
    const { agent } = await setup();
    const open = await agent.request("GET", "/health", undefined, "");
    expect(open).toEqual({ status: 200, body: { status: "ok" } });
    expect(PublicHealthResponse.strict().safeParse(open.body).success).toBe(true);

    const nodeWide = await agent.request("GET", "/health", undefined, `Bearer ${await agent.token()}`);
    expect(nodeWide.status).toBe(200);
    expect(HealthResponse.parse(nodeWide.body)).toEqual({ status: "ok", nodeId: agent.config.NODE_ID, version: expect.any(String), contractVersion: CONTRACT_VERSION, workspaces: 0 });
    const forWorkspace = await agent.request("GET", "/health", undefined, `Bearer ${await agent.token({ workspaceId: "w_1" })}`);
    expect(forWorkspace.body).toMatchObject({ nodeId: agent.config.NODE_ID });

    // A token that is sent must be good: the control plane learns its key or node is wrong.
    const otherNode = await agent.request("GET", "/health", undefined, `Bearer ${await agent.token({ nodeId: "node-2" })}`);
    expect(otherNode).toMatchObject({ status: 401, body: { error: expect.stringContaining("another node") } });
    expect((await agent.request("GET", "/health", undefined, "Bearer not-a-jwt")).status).toBe(401);
  });

  it("answers everything else only with a token for this node", async () => {
    const { agent } = await setup();
    expect((await agent.request("POST", "/workspaces", {}, "")).status).toBe(401);
    expect((await agent.request("POST", "/workspaces", {}, "Bearer not-a-jwt")).status).toBe(401);
    const otherNode = await agent.token({ nodeId: "node-2", workspaceId: "w_1" });
    const refused = await agent.request("POST", "/workspaces", workspace(makeRepo()), `Bearer ${otherNode}`);
    expect(refused).toMatchObject({ status: 401, body: { error: expect.stringContaining("another node") } });
  });

  it("creates a workspace only with a token for that workspace", async () => {
    const { agent, receiver } = await setup();
    const repo = makeRepo();
    const nodeWide = await agent.request("POST", "/workspaces", workspace(repo), `Bearer ${await agent.token()}`);
    expect(nodeWide).toEqual({ status: 403, body: { error: "the token names no workspace; workspace w_1 needs a token for it" } });
    const otherWorkspace = await agent.request("POST", "/workspaces", workspace(repo), `Bearer ${await agent.token({ workspaceId: "w_2" })}`);
    expect(otherWorkspace).toEqual({ status: 403, body: { error: "the token is for another workspace than w_1" } });
    expect(fs.existsSync(path.join(agent.workDir, "workspaces", "w_1"))).toBe(false);

    const own = await agent.request("POST", "/workspaces", workspace(repo), `Bearer ${await agent.token({ workspaceId: "w_1" })}`);
    expect(own).toEqual({ status: 202, body: { workspaceId: "w_1", status: "creating" } });
    await receiver.next(/w_1\/ready$/);
  });

  it("refuses every route of a workspace to a token for another workspace or for none", async () => {
    const { agent, receiver } = await setup({ SCRIPT_AGENT_COMMAND: "echo $$ > agent.pid; exec sleep 600" });
    await agent.request("POST", "/workspaces", workspace(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    await waitForFile(path.join(agent.workDir, "workspaces", "w_1", "repo", "agent.pid"));

    const calls: [string, string, unknown][] = [
      ["POST", "/workspaces/w_1/agent-sessions/s_2/start", { agent: "script", prompt: "x", callbackToken: "cb" }],
      ["GET", "/workspaces/w_1/agent-sessions/s_1", undefined],
      ["POST", "/workspaces/w_1/agent-sessions/s_1/prompt", { prompt: "more", callbackToken: "cb" }],
      ["POST", "/workspaces/w_1/stop", {}],
      ["DELETE", "/workspaces/w_1?force=true", undefined],
    ];
    for (const claims of [{}, { workspaceId: "w_2" }]) {
      const authorization = `Bearer ${await agent.token(claims)}`;
      for (const [method, pathname, body] of calls) {
        const answer = await agent.request(method, pathname, body, authorization);
        expect(answer, `${method} ${pathname} with ${JSON.stringify(claims)}`).toMatchObject({ status: 403, body: { error: expect.stringMatching(/^the token (names no workspace|is for another workspace)/) } });
      }
    }
    // The node's inventory and its orphan tmux stop are for a node token that names no workspace.
    const scoped = `Bearer ${await agent.token({ workspaceId: "w_1" })}`;
    for (const [method, pathname] of [["GET", "/inventory"], ["DELETE", "/tmux-sessions/acp-s_1"]] as const) {
      expect(await agent.request(method, pathname, undefined, scoped)).toMatchObject({ status: 403, body: { error: "this needs a token for the node that names no workspace" } });
    }
    const nodeWide = `Bearer ${await agent.token({})}`;
    expect(await agent.request("GET", "/inventory", undefined, nodeWide)).toMatchObject({ status: 200, body: { tmuxSessions: [{ name: "acp-s_1", workspaceId: "w_1", sessionId: "s_1" }] } });
    // A session an agent session owns is not an orphan's to stop.
    expect((await agent.request("DELETE", "/tmux-sessions/acp-s_1", undefined, nodeWide)).status).toBe(409);
    // Nothing of that reached the workspace: its session runs on, the second was never started.
    expect(await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1")).toMatchObject({ status: 200, body: { status: "running", turn: 1 } });
    expect((await agent.request("GET", "/workspaces/w_1/agent-sessions/s_2")).status).toBe(404);
    expect(fs.existsSync(path.join(agent.workDir, "workspaces", "w_1", "repo"))).toBe(true);
    expect((await agent.request("DELETE", "/workspaces/w_1?force=true")).status).toBe(200);
  });
});

describe("workspaces", () => {
  it("clones on the task's branch and reports ready with the base commit", async () => {
    const { agent, receiver } = await setup();
    const repo = makeRepo();
    const accepted = await agent.request("POST", "/workspaces", workspace(repo));
    expect(accepted).toEqual({ status: 202, body: { workspaceId: "w_1", status: "creating" } });
    const ready = await receiver.next(/\/api\/workspaces\/w_1\/ready$/);
    expect(ready.authorization).toBe("Bearer callback-token-w1");
    expect(ready.body).toMatchObject({ branch: "agents/test-1", baseCommit: git(repo, "rev-parse", "HEAD"), setupScript: "absent" });
    const worktree = path.join(agent.workDir, "workspaces", "w_1", "repo");
    expect(git(worktree, "branch", "--show-current")).toBe("agents/test-1");

    const repeat = await agent.request("POST", "/workspaces", workspace(repo));
    expect(repeat).toEqual({ status: 202, body: { workspaceId: "w_1", status: "running" } });
    expect(receiver.received.filter((r) => r.path.endsWith("/workspaces/w_1/ready"))).toHaveLength(1);
  });

  it("refuses a local repository that does not exist, naming the field", async () => {
    const { agent } = await setup();
    const answer = await agent.request("POST", "/workspaces", workspace("/nonexistent/repo"));
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({ field: "repository", error: expect.stringContaining("does not exist") });
  });

  it("runs the setup script, and reports its failure with the stage and stderr", async () => {
    const { agent, receiver } = await setup();
    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".agent/setup.sh": "touch .setup-done\n" }), "w_ok"));
    expect((await receiver.next(/w_ok\/ready$/)).body).toMatchObject({ setupScript: "ran" });
    expect(fs.existsSync(path.join(agent.workDir, "workspaces", "w_ok", "repo", ".setup-done"))).toBe(true);

    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".agent/setup.sh": "echo 'pip: no such package' >&2\nexit 4\n" }), "w_bad"));
    const failed = await receiver.next(/w_bad\/provisioning-failed$/);
    expect(failed.body).toMatchObject({ stage: "setup" });
    expect(failed.body.error).toContain("pip: no such package");
    expect(failed.body.error).toContain("exit 4");
  });

  it.each([
    ["../escape", 422],
    ["w/../../x", 422],
    ["", 422],
  ])("refuses the workspace id %j", async (workspaceId, status) => {
    const { agent } = await setup();
    const answer = await agent.request("POST", "/workspaces", { ...workspace(makeRepo()), workspaceId });
    expect(answer.status).toBe(status);
    expect(answer.body.field).toBe("workspaceId");
  });

  it.each(["agents/x; rm -rf /", "agents/$(id)", "-delete", "agents/a..b", "agents/`id`"])("refuses the branch %j", async (branch) => {
    const { agent } = await setup();
    const answer = await agent.request("POST", "/workspaces", workspace(makeRepo(), "w_br", branch));
    expect(answer).toMatchObject({ status: 422, body: { field: "branch" } });
  });

  it("refuses ids in paths that leave the work folder", async () => {
    const { agent } = await setup();
    expect((await agent.request("POST", "/workspaces/..%2F..%2Fetc/stop", {})).status).toBe(400);
  });
});

describe("agent sessions", () => {
  async function readyWorkspace(overrides = {}, repo = makeRepo()) {
    const ctx = await setup(overrides);
    await ctx.agent.request("POST", "/workspaces", workspace(repo));
    await ctx.receiver.next(/w_1\/ready$/);
    return { ...ctx, repo };
  }

  it("commits the built-in agent's change, pushes the branch to origin and reports it", async () => {
    const { agent, receiver, repo } = await readyWorkspace();
    const start = await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "Add docs", callbackToken: "cb" });
    expect(start).toEqual({ status: 202, body: { sessionId: "s_1", status: "running" } });
    const done = await receiver.next(/agent-sessions\/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0, pushed: true, branch: "agents/test-1", workspaceId: "w_1" });
    expect(git(repo, "rev-parse", "agents/test-1")).toBe(done.body.commit);
    expect(git(repo, "show", "--stat", "--format=%s", "agents/test-1")).toMatch(/Add docs[\s\S]*\.agent\/tasks\/add-docs\.md/);
  });

  it("passes a hostile prompt verbatim and never to a shell", async () => {
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: 'printf "%s" "$AGENT_PROMPT" > prompt.txt' });
    const prompt = `it's "quoted"\nsecond line $(touch /tmp/pwned-by-prompt) \`id\` ; rm -rf ~`;
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_h/start", { agent: "script", prompt, callbackToken: "cb" });
    const done = await receiver.next(/s_h\/completed$/);
    expect(done.body.outcome).toBe("succeeded");
    expect(fs.readFileSync(path.join(agent.workDir, "workspaces", "w_1", "repo", "prompt.txt"), "utf8")).toBe(prompt);
    expect(fs.existsSync("/tmp/pwned-by-prompt")).toBe(false);
  });

  it("reports a failing agent with its exit code and output", async () => {
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: "echo 'model quota exceeded' >&2; exit 3" });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_f/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    const done = await receiver.next(/s_f\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed", exitCode: 3 });
    expect(done.body.error).toContain("model quota exceeded");
  });

  it("keeps the agent's environment free of node secrets", async () => {
    process.env.NODE_CALLBACK_TOKEN = "secret-node-token";
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: "env > env.txt" });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_e/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    await receiver.next(/s_e\/completed$/);
    const env = fs.readFileSync(path.join(agent.workDir, "workspaces", "w_1", "repo", "env.txt"), "utf8");
    delete process.env.NODE_CALLBACK_TOKEN;
    expect(env).toContain("AGENT_PROMPT=x");
    expect(env).not.toContain("secret-node-token");
  });

  it("refuses a session in an unknown workspace", async () => {
    const { agent } = await setup();
    expect((await agent.request("POST", "/workspaces/w_none/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" })).status).toBe(404);
  });

  it("stop kills a running agent and reports nothing for it", async () => {
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: "echo $$ > agent.pid; exec sleep 600" });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_s/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    const pidFile = path.join(agent.workDir, "workspaces", "w_1", "repo", "agent.pid");
    // The agent writes its pid as its first act; wait for that file rather than for time.
    await waitForFile(pidFile);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    expect((await agent.request("POST", "/workspaces/w_1/stop", {})).status).toBe(200);
    expect(() => process.kill(pid, 0)).toThrow();
    expect(receiver.received.some((r) => r.path.includes("s_s"))).toBe(false);
  });
});

describe("callback delivery", () => {
  it("retries 503s and delivers once", async () => {
    const { agent, receiver } = await setup({}, (p, attempt) => (p.endsWith("/ready") && attempt < 3 ? 503 : 200));
    await agent.request("POST", "/workspaces", workspace(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    expect(receiver.attempts.get("/api/workspaces/w_1/ready")).toBe(3);
    expect(receiver.received.filter((r) => r.path.endsWith("/workspaces/w_1/ready"))).toHaveLength(1);
  });

  it("treats 4xx other than 408 and 429 as permanent", () => {
    expect([400, 401, 403, 404, 409, 422].every(isPermanent)).toBe(true);
    expect([408, 429, 500, 502, 503].some(isPermanent)).toBe(false);
  });

  it("backs off exponentially up to the ceiling, with jitter below it", () => {
    const policy = { maxAttempts: 5, maxElapsedMs: 120_000, baseDelayMs: 1_000, maxDelayMs: 30_000, requestTimeoutMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, policy, () => 0.999))).toEqual([999, 1998, 3996, 7992, 15984, 29970]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
  });
});

describe("agent output", () => {
  it("reaches the control plane in order while the agent works, before or beside its completion", async () => {
    const { agent, receiver } = await setup({ SCRIPT_AGENT_COMMAND: 'for i in 1 2 3; do echo "line $i"; done; printf "no newline at the end"' });
    await agent.request("POST", "/workspaces", workspace(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_o/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    await receiver.next(/s_o\/completed$/);
    const batches = receiver.received.filter((r) => r.path.endsWith("/s_o/output")).sort((a, b) => Number(a.body.offset) - Number(b.body.offset));
    expect(batches.flatMap((b) => b.body.lines as string[])).toEqual(["line 1", "line 2", "line 3", "no newline at the end"]);
    expect(batches[0]!.authorization).toBe("Bearer cb");
    expect(batches[0]!.body).toMatchObject({ workspaceId: "w_1", turn: 1, offset: 0 });
  });
});
