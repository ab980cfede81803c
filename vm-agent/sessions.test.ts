import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { commitOnBranch, git, makeRepo } from "../tests/harness/git";
import { AgentSessionState } from "../lib/contracts/vm-agent";
import { gone, startReceiver, startTestAgent, waitForFile, type TestAgentOptions, workspaceRequest } from "./test-support";
import { sharedTempDir } from "../tests/harness/shared-dir";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const workspace = workspaceRequest;
const start = (prompt = "Add docs", agent = "script") => ({ agent, prompt, callbackToken: "cb" });

async function readyWorkspace(overrides: TestAgentOptions = {}, extra: Record<string, unknown> = {}) {
  const receiver = await startReceiver();
  const agent = await startTestAgent(receiver.url, overrides);
  cleanups.push(receiver.close, agent.close);
  const repo = makeRepo();
  await agent.request("POST", "/workspaces", workspace(repo, extra));
  await receiver.next(/w_1\/ready$/);
  const worktree = path.join(agent.workDir, "workspaces", "w_1", "repo");
  return { agent, receiver, repo, worktree };
}

describe("starting a session", () => {
  it("answers 409 while the workspace is still being provisioned, and 202 once it is ready", async () => {
    const receiver = await startReceiver();
    const agent = await startTestAgent(receiver.url);
    cleanups.push(receiver.close, agent.close);
    const gate = sharedTempDir("vm-agent-gate-");
    cleanups.push(async () => fs.rmSync(gate, { recursive: true, force: true }));
    // The setup script holds provisioning until the test opens the gate (it signals that it started).
    const setup = `echo up > "${gate}/started"\nwhile [ ! -e "${gate}/open" ]; do sleep 0.05; done\n`;
    await agent.request("POST", "/workspaces", workspace(makeRepo({ ".agent/setup.sh": setup })));
    await waitForFile(path.join(gate, "started"));
    const early = await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    expect(early).toMatchObject({ status: 409, body: { error: expect.stringContaining("creating") } });
    fs.writeFileSync(path.join(gate, "open"), "");
    await receiver.next(/w_1\/ready$/);
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start())).status).toBe(202);
    expect((await receiver.next(/s_1\/completed$/)).body.outcome).toBe("succeeded");
  });

  it("is idempotent per session id: a repeat starts nothing and reports nothing more", async () => {
    const { agent, receiver, worktree } = await readyWorkspace();
    const base = git(worktree, "rev-parse", "HEAD");
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start())).status).toBe(202);
    const done = await receiver.next(/s_1\/completed$/);
    const repeat = await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    expect(repeat).toEqual({ status: 202, body: { sessionId: "s_1", status: "running" } });
    expect(agent.agent.manager.runtime.get("w_1", "s_1")).toBeUndefined();
    expect(git(worktree, "rev-list", "--count", `${base}..HEAD`)).toBe("1");
    expect(git(worktree, "rev-parse", "HEAD")).toBe(done.body.commit);
    expect(receiver.received.filter((r) => r.path.endsWith("/s_1/completed"))).toHaveLength(1);
  });

  it("honours Idempotency-Key: a repeat is accepted, the key on another session is refused", async () => {
    const { agent, receiver } = await readyWorkspace();
    const call = async (sessionId: string, key: string) => {
      const response = await agent.fetch(`/workspaces/w_1/agent-sessions/${sessionId}/start`, {
        method: "POST",
        headers: { authorization: `Bearer ${await agent.token({ workspaceId: "w_1" })}`, "content-type": "application/json", "idempotency-key": key },
        body: JSON.stringify(start()),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    };
    expect(await call("s_1", "key-1")).toEqual({ status: 202, body: { sessionId: "s_1", status: "running" } });
    expect((await call("s_1", "key-1")).status).toBe(202);
    expect(await call("s_2", "key-1")).toMatchObject({ status: 422, body: { field: "Idempotency-Key", error: expect.stringContaining("s_1") } });
    expect(await call("s_3", "has space")).toMatchObject({ status: 400, body: { field: "Idempotency-Key" } });
    await receiver.next(/s_1\/completed$/);
    expect(receiver.received.some((r) => /s_[23]/.test(r.path))).toBe(false);
  });

  it.each(["codex", "claude-code"])("completes a %s session at once as failed when the agent is not on the node", async (kind) => {
    const { agent, receiver } = await readyWorkspace({ CLAUDE_CODE_BIN: "/nonexistent/claude", CODEX_BIN: "/nonexistent/codex" });
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_x/start", start("x", kind))).status).toBe(202);
    const done = await receiver.next(/s_x\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed", exitCode: null, commit: null, pushed: false, error: expect.stringContaining(`agent ${kind} is not installed on this node`) });
  });
});

describe("the agent's work", () => {
  it("is committed with the request's git identity, the prompt's first line and the session trailer", async () => {
    const { agent, receiver, worktree } = await readyWorkspace({}, { gitIdentity: { name: "Ada Lovelace", email: "ada@example.test" } });
    const prompt = `${"Refactor the parser ".repeat(6)}\nsecond line`;
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start(prompt));
    const done = await receiver.next(/s_1\/completed$/);
    expect(git(worktree, "log", "-1", "--format=%an <%ae>")).toBe("Ada Lovelace <ada@example.test>");
    expect(git(worktree, "log", "-1", "--format=%s")).toBe(prompt.split("\n")[0]!.trim().slice(0, 72));
    expect(git(worktree, "log", "-1", "--format=%(trailers:key=Agent-Session,valueonly)")).toBe("s_1");
    expect(done.body).toMatchObject({ outcome: "succeeded", pushed: true });
    // The built-in agent's note: the prompt and its sha256, and a line in the log.
    const task = fs.readdirSync(path.join(worktree, ".agent", "tasks"));
    expect(task).toHaveLength(1);
    expect(fs.readFileSync(path.join(worktree, ".agent", "tasks", task[0]!), "utf8")).toMatch(/sha256: [0-9a-f]{64}/);
    expect(fs.readFileSync(path.join(worktree, ".agent", "log.md"), "utf8").trim().split("\n")).toHaveLength(1);
    // Its closing summary is the line it printed last.
    expect(done.body.summary).toBe(`script agent: wrote .agent/tasks/${task[0]!}`);
  });

  it("cannot make the daemon's git run a program through a planted hook or fsmonitor", async () => {
    const marks = sharedTempDir("vm-agent-marks-");
    cleanups.push(async () => fs.rmSync(marks, { recursive: true, force: true }));
    const command = [
      "mkdir -p .git/hooks",
      `printf '#!/bin/sh\\ntouch ${marks}/hook\\n' > .git/hooks/post-commit`,
      "chmod +x .git/hooks/post-commit",
      `git config core.fsmonitor 'touch ${marks}/fsmonitor; false'`,
      "echo change > change.txt",
    ].join(" && ");
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: command });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    expect((await receiver.next(/s_1\/completed$/)).body).toMatchObject({ outcome: "succeeded", pushed: true });
    expect(fs.readdirSync(marks)).toEqual([]);
  });

  it("names the task's page and the person who asked in the commit's trailers", async () => {
    const attribution = { taskUrl: "https://agents.example.test/tasks/t_1", requestedBy: { name: "Grace Hopper", email: "grace@example.test" } };
    const { agent, receiver, worktree } = await readyWorkspace({}, { attribution });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    await receiver.next(/s_1\/completed$/);
    expect(git(worktree, "log", "-1", "--format=%(trailers:key=Agent-Task,valueonly)")).toBe(attribution.taskUrl);
    expect(git(worktree, "log", "-1", "--format=%(trailers:key=Co-authored-by,valueonly)")).toBe("Grace Hopper <grace@example.test>");
    expect(git(worktree, "log", "-1", "--format=%(trailers:key=Agent-Session,valueonly)")).toBe("s_1");
  });

  it("reports the branch's diff against its base branch with the turn's completion", async () => {
    const { agent, receiver, repo } = await readyWorkspace();
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start("Add docs"));
    const done = await receiver.next(/s_1\/completed$/);
    expect(done.body).toMatchObject({ turn: 1, diff: { base: git(repo, "rev-parse", "main"), head: done.body.commit, truncated: false } });
    const diff = done.body.diff as { files: { path: string; added: number }[]; patch: string };
    expect(diff.files).toEqual(expect.arrayContaining([{ path: ".agent/log.md", added: 1, removed: 0 }, expect.objectContaining({ path: expect.stringMatching(/^\.agent\/tasks\/add-docs\.md$/) })]));
    expect(diff.patch).toContain("+# Task");
  });

  it("rebases its commits onto a remote branch that moved under it and pushes without forcing", async () => {
    const { agent, receiver, repo, worktree } = await readyWorkspace();
    // Someone pushes to the task's branch after the clone: a change to another file.
    const theirs = commitOnBranch(repo, "agents/test-1", { "NOTES.md": "their change\n" });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    const done = await receiver.next(/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", pushed: true });
    const tip = git(repo, "rev-parse", "agents/test-1");
    expect(done.body.commit).toBe(tip);
    expect(git(worktree, "rev-parse", "HEAD")).toBe(tip);
    // Their commit is kept, under the agent's one.
    expect(git(repo, "rev-parse", "agents/test-1~1")).toBe(theirs);
    expect(git(repo, "show", "agents/test-1:NOTES.md")).toBe("their change");
    expect(git(repo, "log", "-1", "--format=%(trailers:key=Agent-Session,valueonly)", "agents/test-1")).toBe("s_1");
    expect(git(worktree, "status", "--porcelain")).toBe("");
  });

  it("reports a conflict with a remote branch that moved, keeps the commit and overwrites nothing", async () => {
    const { agent, receiver, repo, worktree } = await readyWorkspace();
    fs.mkdirSync(path.join(repo, ".agent"), { recursive: true });
    // The script agent appends to .agent/log.md: their commit creates it with other content.
    const theirs = commitOnBranch(repo, "agents/test-1", { ".agent/log.md": "- their line\n" });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    const done = await receiver.next(/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", pushed: false, error: expect.stringMatching(/moved .* conflict .*\.agent\/log\.md.*nothing was force-pushed/) });
    expect(git(repo, "rev-parse", "agents/test-1")).toBe(theirs);
    // The rebase was undone: the worktree is on the agent's own commit, clean.
    expect(git(worktree, "rev-parse", "HEAD")).toBe(done.body.commit);
    expect(git(worktree, "status", "--porcelain")).toBe("");
    expect(git(worktree, "log", "-1", "--format=%(trailers:key=Agent-Session,valueonly)")).toBe("s_1");
  });

  it("records a push that fails in error without failing the session", async () => {
    const { agent, receiver, repo } = await readyWorkspace();
    // The origin refuses every update of the branch.
    fs.writeFileSync(path.join(repo, ".git", "hooks", "pre-receive"), "#!/bin/sh\necho 'branch is protected' >&2\nexit 1\n", { mode: 0o755 });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    const done = await receiver.next(/s_1\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", pushed: false, error: expect.stringContaining("branch is protected") });
    expect(done.body.commit).toMatch(/^[0-9a-f]{40}$/);
  });
});

describe("the agent timeout", () => {
  it("kills an agent that runs too long, reports it failed, and leaves the workspace usable", async () => {
    const command = 'if [ "$AGENT_PROMPT" = slow ]; then echo $$ > agent.pid; exec sleep 600; fi; echo done > quick.txt';
    const { agent, receiver, worktree } = await readyWorkspace({ AGENT_TIMEOUT: 500, SCRIPT_AGENT_COMMAND: command });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_slow/start", start("slow"));
    const done = await receiver.next(/s_slow\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed", exitCode: null, error: expect.stringContaining("timed out after 500ms") });
    expect(gone(Number(fs.readFileSync(path.join(worktree, "agent.pid"), "utf8")))).toBe(true);
    expect(await agent.tmux.list()).toEqual([]);
    // The timed-out session's work (its pid file) was committed; the workspace takes the next session.
    expect(done.body.commit).toBe(git(worktree, "rev-parse", "HEAD"));
    expect(await agent.request("POST", "/workspaces/w_1/agent-sessions/s_next/start", start("quick"))).toMatchObject({ status: 202 });
    expect((await receiver.next(/s_next\/completed$/)).body).toMatchObject({ outcome: "succeeded", exitCode: 0 });
  });
});

describe("reading a session's state", () => {
  it("says running while the agent works, and once completed carries exactly the completion callback's body", async () => {
    const gate = sharedTempDir("vm-agent-gate-");
    cleanups.push(async () => fs.rmSync(gate, { recursive: true, force: true }));
    const command = `echo up > "${gate}/started"; while [ ! -e "${gate}/open" ]; do sleep 0.05; done; echo work > work.txt`;
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: command });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start());
    await waitForFile(path.join(gate, "started"));
    expect(await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1")).toEqual({
      status: 200,
      body: { sessionId: "s_1", workspaceId: "w_1", status: "running", turn: 1 },
    });
    fs.writeFileSync(path.join(gate, "open"), "");
    const done = await receiver.next(/s_1\/completed$/);
    const state = await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1");
    expect(AgentSessionState.parse(state.body)).toEqual({ sessionId: "s_1", workspaceId: "w_1", status: "completed", turn: 1, completion: done.body });
    expect(done.body).toMatchObject({ messageId: "s_1-t1-completed", outcome: "succeeded" });
  });

  it("carries the failed turn's completion, and the next turn's once a follow-up completes", async () => {
    const { agent, receiver } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: 'echo "$AGENT_PROMPT" >> turns.txt; [ "$AGENT_PROMPT" != fail ] || exit 7' });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start("fail"));
    const first = await receiver.next(/s_1\/completed$/);
    expect(first.body).toMatchObject({ outcome: "failed", exitCode: 7 });
    expect((await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1")).body.completion).toEqual(first.body);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", { prompt: "again", callbackToken: "cb2" });
    const second = await receiver.nth(/s_1\/completed$/, 2);
    expect(await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1")).toEqual({
      status: 200,
      body: { sessionId: "s_1", workspaceId: "w_1", status: "completed", turn: 2, completion: second.body },
    });
    expect(second.body).toMatchObject({ messageId: "s_1-t2-completed", outcome: "succeeded" });
  });

  it("starts a follow-up's turn once: a resent prompt for a turn that started is accepted and starts nothing", async () => {
    const { agent, receiver, worktree } = await readyWorkspace({ SCRIPT_AGENT_COMMAND: 'echo "$AGENT_PROMPT" >> turns.txt' });
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", start("one"));
    await receiver.next(/s_1\/completed$/);
    const follow = { prompt: "two", callbackToken: "cb2", turn: 2 };
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", follow)).status).toBe(202);
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", follow)).status).toBe(202);
    await receiver.nth(/s_1\/completed$/, 2);
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", follow)).status).toBe(202);
    // A turn that skips one is refused, naming the field.
    expect(await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/prompt", { ...follow, turn: 4 })).toMatchObject({ status: 409, body: { field: "turn" } });
    expect(fs.readFileSync(path.join(worktree, "turns.txt"), "utf8")).toBe("one\ntwo\n");
    expect(receiver.received.filter((r) => r.path.endsWith("/s_1/completed"))).toHaveLength(2);
  });

  it("answers 404 for an unknown workspace or session, 401 without a token", async () => {
    const { agent } = await readyWorkspace();
    expect(await agent.request("GET", "/workspaces/w_none/agent-sessions/s_1")).toMatchObject({ status: 404, body: { error: expect.stringContaining("w_none") } });
    expect(await agent.request("GET", "/workspaces/w_1/agent-sessions/s_none")).toMatchObject({ status: 404, body: { error: expect.stringContaining("s_none") } });
    expect((await agent.request("GET", "/workspaces/w_1/agent-sessions/s_1", undefined, "")).status).toBe(401);
  });
});
