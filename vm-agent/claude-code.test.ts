/**
 * The claude-code agent for real: the Claude Code CLI from the npm registry, started in the
 * session's tmux window on a real workspace. Only the model is a double (tests/doubles), following
 * Anthropic's published Messages API.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startAnthropicDouble, type ScriptedTurn } from "../tests/doubles/anthropic-api";
import { git, makeRepo } from "../tests/harness/git";
import { TurnUsage } from "../lib/contracts/usage";
import { daemonProcess, nonLoopbackAddress, startReceiver, startTestAgent, testKey } from "./test-support";

/**
 * The model double listens on this machine's non-loopback address, which the workspace's egress
 * allows: the agent's CLI reaches it through its proxy (loopback is out of its namespace's reach),
 * the default allow-list admitting the model API host the node is configured with.
 */
const MODEL_HOST = nonLoopbackAddress() ?? "127.0.0.1";
const MODEL_EGRESS = { policy: "allow-list", allowPrivate: MODEL_HOST === "127.0.0.1" ? [] : [MODEL_HOST] };
import { nodeUsers } from "./users";

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function claudeWorkspace(script: ScriptedTurn[], overrides = {}) {
  const model = await startAnthropicDouble(script, MODEL_HOST);
  const receiver = await startReceiver();
  const agent = await startTestAgent(receiver.url, { ANTHROPIC_BASE_URL: model.url, ...overrides });
  cleanups.push(model.close, receiver.close, agent.close);
  const repo = makeRepo();
  await agent.request("POST", "/workspaces", { workspaceId: "w_c", taskId: "t", repository: repo, branch: "agents/claude-1", callbackToken: "cb", egress: MODEL_EGRESS });
  await receiver.next(/w_c\/ready$/);
  return { model, receiver, agent, repo };
}

/** The session's model key, as the control plane hands it over with the start request. */
const KEY = "sk-ant-api03-session-key-of-the-owner";
const REPLACED_KEY = "sk-ant-api03-replaced-before-turn-two";

const writeFile: ScriptedTurn = { kind: "tool_use", name: "Bash", input: { command: "printf 'limit: 10/min\\n' > RATE_LIMITS.md", description: "Write the notes" } };

/** A `result` event's figures as the completion reports them (Anthropic's fields, read here from the raw line). */
function resultUsage(line: string) {
  const result = JSON.parse(line) as { usage: Record<string, number>; total_cost_usd: number };
  return {
    inputTokens: result.usage.input_tokens,
    outputTokens: result.usage.output_tokens,
    cacheReadTokens: result.usage.cache_read_input_tokens ?? 0,
    cacheWriteTokens: result.usage.cache_creation_input_tokens ?? 0,
    costUsd: result.total_cost_usd,
  };
}

/** A `result` event's final text, read from the raw line. */
const resultText = (line: string) => (JSON.parse(line) as { result: string }).result;

describe("claude-code agent", () => {
  it("runs the real CLI in tmux: the model's tool use changes the worktree, and the work is committed and pushed", async () => {
    const { model, receiver, agent, repo } = await claudeWorkspace([writeFile, { kind: "text", text: "Added RATE_LIMITS.md." }]);
    const prompt = `Add rate limiting notes.\nUse "quotes" and $(no-expansion) as they are.`;
    const start = await agent.request("POST", "/workspaces/w_c/agent-sessions/s_c/start", { agent: "claude-code", prompt, callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    expect(start.status).toBe(202);
    expect((await agent.tmux.list()).map((s) => s.name)).toContain("acp-s_c");

    const done = await receiver.next(/s_c\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0, pushed: true });
    expect(git(repo, "show", `${done.body.commit}:RATE_LIMITS.md`)).toBe("limit: 10/min");

    const main = model.mainRequests();
    expect(main).toHaveLength(2);
    expect(main.map((r) => r.apiKey)).toEqual([KEY, KEY]);
    expect(JSON.stringify(main[0]!.messages[0])).toContain(JSON.stringify(prompt).slice(1, -1));
    expect(model.answersTool(main[1]!.messages)).toBe(true);
    // Its event stream is the session's log: init, the tool round trip, and the final result.
    const log = fs.readFileSync(path.join(agent.workDir, "workspaces", "w_c", "agent-s_c.log"), "utf8");
    const types = log.split("\n").filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { type: string }).type);
    expect(types[0]).toBe("system");
    expect(types[types.length - 1]).toBe("result");
    // The completion carries the turn's usage and price as the CLI's own result event gives them,
    // and its closing summary: the result's final text, which is the model's last answer.
    const result = log.split("\n").filter((l) => l.includes('"type":"result"'))[0]!;
    expect(done.body.usage).toEqual(resultUsage(result));
    expect(done.body.summary).toBe(resultText(result));
    expect(done.body.summary).toBe("Added RATE_LIMITS.md.");
  }, 90_000);

  it("rides out a 429 with the documented body and still finishes", async () => {
    const { model, receiver, agent } = await claudeWorkspace([{ kind: "error", status: 429 }, writeFile, { kind: "text", text: "Done." }]);
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_r/start", { agent: "claude-code", prompt: "Add notes", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    const done = await receiver.next(/s_r\/completed$/);
    expect(done.body.outcome).toBe("succeeded");
    expect(model.mainRequests().length).toBeGreaterThanOrEqual(3);
  }, 90_000);

  it("takes a prompt that starts with -- as the prompt, not as an option", async () => {
    const addSection: ScriptedTurn = { kind: "tool_use", name: "Bash", input: { command: "printf '## Usage\\n' >> README.md", description: "Add the section" } };
    const { model, receiver, agent, repo } = await claudeWorkspace([addSection, { kind: "text", text: "Added the section." }]);
    const prompt = "--help me add a section on usage to the README";
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_d/start", { agent: "claude-code", prompt, callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    const done = await receiver.next(/s_d\/completed$/);
    expect(done.body, JSON.stringify(done.body)).toMatchObject({ outcome: "succeeded", exitCode: 0, pushed: true });
    expect(git(repo, "show", `${String(done.body.commit)}:README.md`)).toContain("## Usage");
    expect(git(repo, "log", "-1", "--format=%s", String(done.body.commit))).toBe(prompt);
    expect(JSON.stringify(model.mainRequests()[0]!.messages[0])).toContain(prompt);
  }, 90_000);

  it("fails at once with a clear error when its start request brings no model key", async () => {
    const { receiver, agent } = await claudeWorkspace([]);
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_k/start", { agent: "claude-code", prompt: "x", callbackToken: "cb" });
    const done = await receiver.next(/s_k\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed" });
    expect(done.body.error).toContain("ANTHROPIC_API_KEY");
  });
});

describe("a session's model key", () => {
  it("reaches only its agent: in no argument list, not in tmux's environment, in no file once the agent runs", async () => {
    let answer!: () => void;
    const { model, receiver, agent } = await claudeWorkspace([{ kind: "held", until: new Promise<void>((resolve) => (answer = resolve)), then: { kind: "text", text: "Done." } }]);
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_h/start", { agent: "claude-code", prompt: "Hold on", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    await model.heldReached; // the CLI runs and has called the model with the key
    expect(model.mainRequests()[0]?.apiKey).toBe(KEY);

    const cmdlines = fs.readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).map((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      } catch {
        return ""; // exited meanwhile
      }
    });
    expect(cmdlines.filter((line) => line.includes(KEY))).toEqual([]);
    const tmuxEnvironment = (...args: string[]) => spawnSync("tmux", ["-L", agent.tmux.socket, "show-environment", ...args], { encoding: "utf8" }).stdout;
    expect(tmuxEnvironment("-g")).not.toContain(KEY);
    expect(tmuxEnvironment("-t", "acp-s_h")).not.toContain(KEY);
    const holding = spawnSync("grep", ["-rl", "--", KEY, agent.workDir], { encoding: "utf8" }).stdout.trim();
    expect(holding).toBe("");

    answer();
    expect((await receiver.next(/s_h\/completed$/)).body.outcome).toBe("succeeded");
  }, 90_000);

  it("is redacted from the output and errors that leave the node when the agent prints it", async () => {
    const { receiver, agent } = await claudeWorkspace([
      { kind: "tool_use", name: "Bash", input: { command: 'echo "key=$ANTHROPIC_API_KEY"; echo "key=$ANTHROPIC_API_KEY" >&2; exit 3', description: "Print the key" } },
      // The model repeats it in its closing words, which become the completion's summary.
      { kind: "text", text: `Printed it: key=${KEY}` },
    ]);
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_p/start", { agent: "claude-code", prompt: "Print your key", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    const done = await receiver.next(/s_p\/completed$/);
    const shipped = JSON.stringify(receiver.received.filter((r) => r.path.includes("s_p")).map((r) => r.body));
    expect(shipped).not.toContain(KEY);
    expect(shipped).toContain("key=[redacted]");
    expect(JSON.stringify(done.body)).not.toContain(KEY);
    expect(done.body.summary).toBe("Printed it: key=[redacted]");
  }, 90_000);
});

/** Run as `user`: reads every /proc/<pid>/cmdline and environ it can; which of them hold the text it is given on stdin. */
function scanProcesses(user: { uid: number; gid: number }, needle: string) {
  const scanner = `
    const fs = require("node:fs");
    const needle = fs.readFileSync(0, "utf8");
    const found = []; let cmdlines = 0, environs = 0, agents = 0;
    for (const pid of fs.readdirSync("/proc")) {
      if (!/^\\d+$/.test(pid) || Number(pid) === process.pid) continue;
      for (const file of ["cmdline", "environ"]) {
        let text;
        try { text = fs.readFileSync("/proc/" + pid + "/" + file, "utf8"); } catch { continue; }
        if (file === "cmdline") { cmdlines++; if (text.includes("claude")) agents++; } else environs++;
        if (text.includes(needle)) found.push(pid + "/" + file);
      }
    }
    console.log(JSON.stringify({ found, cmdlines, environs, agents }));`;
  const result = spawnSync(process.execPath, ["-e", scanner], { uid: user.uid, gid: user.gid, input: needle, encoding: "utf8", env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } as Record<string, string> as NodeJS.ProcessEnv });
  expect(result.status, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { found: string[]; cmdlines: number; environs: number; agents: number };
}

describe("prompts on a node with several workspaces", () => {
  it("are in no argument list or environment another workspace's user can read", async () => {
    let answer!: () => void;
    const until = new Promise<void>((resolve) => (answer = resolve));
    const model = await startAnthropicDouble([
      { kind: "held", until, then: { kind: "text", text: "Done." } },
      { kind: "held", until, then: { kind: "text", text: "Done." } },
    ], MODEL_HOST);
    const receiver = await startReceiver();
    const agent = await startTestAgent(receiver.url, { ANTHROPIC_BASE_URL: model.url });
    cleanups.push(model.close, receiver.close, agent.close);
    const repo = makeRepo();
    const prompts = { w_a: "Workspace A asks: rename the widget factory", w_b: "Workspace B asks: rotate the payroll export keys" };
    for (const workspaceId of ["w_a", "w_b"] as const) {
      await agent.request("POST", "/workspaces", { workspaceId, taskId: `t_${workspaceId}`, repository: repo, branch: `agents/${workspaceId}`, callbackToken: "cb", egress: MODEL_EGRESS });
      await receiver.next(new RegExp(`${workspaceId}/ready$`));
    }
    for (const workspaceId of ["w_a", "w_b"] as const) {
      const started = await agent.request("POST", `/workspaces/${workspaceId}/agent-sessions/s_${workspaceId}/start`, { agent: "claude-code", prompt: prompts[workspaceId], callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
      expect(started.status).toBe(202);
    }
    // Both CLIs are mid-conversation, each having sent its own prompt to the model.
    await vi.waitFor(() => expect(model.held()).toBe(2), { timeout: 60_000, interval: 100 });
    const sent = JSON.stringify(model.mainRequests().map((r) => r.messages));
    expect(sent).toContain(prompts.w_a);
    expect(sent).toContain(prompts.w_b);

    const users = nodeUsers(agent.config.NODE_ID);
    const userOf = (workspaceId: string) => users.find((u) => u.workspaceId === workspaceId)!;
    expect(userOf("w_a").uid).not.toBe(userOf("w_b").uid);
    const seenByA = scanProcesses(userOf("w_a"), prompts.w_b);
    // A sees the node's processes (both agents' command lines among them), and nothing of B's prompt.
    expect(seenByA.agents).toBeGreaterThanOrEqual(2);
    expect(seenByA.found).toEqual([]);
    const seenByB = scanProcesses(userOf("w_b"), prompts.w_a);
    expect(seenByB.found).toEqual([]);

    answer();
    expect((await receiver.next(/s_w_a\/completed$/)).body.outcome).toBe("succeeded");
    expect((await receiver.next(/s_w_b\/completed$/)).body.outcome).toBe("succeeded");
  }, 120_000);
});

describe("a session's model key across a daemon restart", () => {
  it("is still redacted from the output a restarted daemon sends", async () => {
    let answer!: () => void;
    const model = await startAnthropicDouble([
      { kind: "held", until: new Promise<void>((resolve) => (answer = resolve)), then: { kind: "tool_use", name: "Bash", input: { command: 'echo "key=$ANTHROPIC_API_KEY"', description: "Print the key" } } },
      { kind: "text", text: "Printed it." },
    ], MODEL_HOST);
    const receiver = await startReceiver();
    const key = await testKey();
    const first = await startTestAgent(receiver.url, { key, ANTHROPIC_BASE_URL: model.url });
    cleanups.push(model.close, receiver.close, first.close);
    await first.request("POST", "/workspaces", { workspaceId: "w_r", taskId: "t", repository: makeRepo(), branch: "agents/restart-1", callbackToken: "cb", egress: MODEL_EGRESS });
    await receiver.next(/w_r\/ready$/);
    await first.request("POST", "/workspaces/w_r/agent-sessions/s_r/start", { agent: "claude-code", prompt: "Print your key", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    await model.heldReached; // the CLI runs, with the key in its environment

    // The daemon restarts (what it held in memory is gone); the agent goes on in tmux and prints its key.
    await first.detach();
    const second = await startTestAgent(receiver.url, { key, workDir: first.workDir, NODE_ID: first.config.NODE_ID, ANTHROPIC_BASE_URL: model.url });
    cleanups.push(second.detach);
    // The CLI's request went through the daemon's proxy, which the restart cut: it asks again, through the new one.
    await vi.waitFor(() => expect(model.held()).toBe(2), { timeout: 30_000, interval: 50 });
    answer();

    const done = await receiver.next(/s_r\/completed$/);
    expect(done.body.outcome).toBe("succeeded");
    const shipped = JSON.stringify(receiver.received.filter((r) => r.path.includes("s_r")).map((r) => r.body));
    expect(shipped).toContain("key=[redacted]");
    expect(shipped).not.toContain(KEY);
  }, 90_000);
});

describe("claude-code through a vm-agent crash", () => {
  it("keeps working in tmux through kill -9 of the vm-agent; the restarted one adopts it and reports once", async () => {
    let answer!: () => void;
    const model = await startAnthropicDouble([
      { kind: "held", until: new Promise<void>((resolve) => (answer = resolve)), then: writeFile },
      { kind: "text", text: "Done." },
    ], MODEL_HOST);
    const receiver = await startReceiver();
    const daemon = await daemonProcess(receiver, { ANTHROPIC_BASE_URL: model.url });
    cleanups.push(model.close, receiver.close, daemon.cleanup);

    const first = await daemon.start();
    const repo = makeRepo();
    await daemon.call(first.endpoint, "POST", "/workspaces", { workspaceId: "w_k", taskId: "t", repository: repo, branch: "agents/kill-1", callbackToken: "cb", egress: MODEL_EGRESS });
    await receiver.next(/w_k\/ready$/);
    await daemon.call(first.endpoint, "POST", "/workspaces/w_k/agent-sessions/s_k/start", { agent: "claude-code", prompt: "Add notes", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    await model.heldReached; // the CLI is mid-conversation, waiting on the model

    await daemon.killHard(first.child);
    await daemon.start();
    // The CLI's request went through the killed daemon's proxy: it asks again, through the new one.
    await vi.waitFor(() => expect(model.held()).toBe(2), { timeout: 30_000, interval: 50 });
    answer();

    const done = await receiver.next(/s_k\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0, pushed: true });
    expect(git(repo, "show", `${done.body.commit}:RATE_LIMITS.md`)).toBe("limit: 10/min");
    expect(receiver.received.filter((r) => r.path.endsWith("/s_k/completed"))).toHaveLength(1);
  }, 90_000);
});

describe("follow-up prompts", () => {
  it("resume the same Claude Code conversation with the session's model and report the new turn once", async () => {
    const { model, receiver, agent } = await claudeWorkspace([
      { kind: "text", text: "First answer: the plan." },
      writeFile,
      { kind: "text", text: "Second answer: done." },
    ]);
    const chosen = "claude-sonnet-4-5";
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_f/start", { agent: "claude-code", prompt: "Make a plan", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY }, model: chosen });
    const first = await receiver.nth(/s_f\/completed$/, 1);
    expect(first.body.outcome).toBe("succeeded");

    const accepted = await agent.request("POST", "/workspaces/w_c/agent-sessions/s_f/prompt", { prompt: "Now do it", callbackToken: "cb2", secrets: { ANTHROPIC_API_KEY: REPLACED_KEY } });
    expect(accepted.status).toBe(202);
    const again = await agent.request("POST", "/workspaces/w_c/agent-sessions/s_f/prompt", { prompt: "And more", callbackToken: "cb2" });
    expect(again.status).toBe(409); // still working on the follow-up

    const second = await receiver.nth(/s_f\/completed$/, 2);
    expect(second.body).toMatchObject({ outcome: "succeeded" });
    expect(second.body.messageId).not.toBe(first.body.messageId);
    // The follow-up's first request carries the whole conversation: the first prompt and answer included.
    const followUp = model.mainRequests().find((r) => JSON.stringify(r.messages).includes("Now do it"))!;
    // Each turn's agent gets the key its own request brought (the owner may have replaced it).
    expect(followUp.apiKey).toBe(REPLACED_KEY);
    const conversation = JSON.stringify(followUp.messages);
    expect(conversation).toContain("Make a plan");
    expect(conversation).toContain("First answer: the plan.");
    // Both turns used the model the start asked for.
    expect(new Set(model.mainRequests().map((r) => r.model))).toEqual(new Set([chosen]));
    // Each turn reports its own usage, its own result event's (the log holds both turns').
    const results = fs.readFileSync(path.join(agent.workDir, "workspaces", "w_c", "agent-s_f.log"), "utf8").split("\n").filter((l) => l.includes('"type":"result"'));
    expect(results).toHaveLength(2);
    expect(first.body.usage).toEqual(resultUsage(results[0]!));
    expect(second.body.usage).toEqual(resultUsage(results[1]!));
    expect(TurnUsage.parse(second.body.usage).outputTokens).toBeGreaterThan(TurnUsage.parse(first.body.usage).outputTokens);
    // And its own closing summary, its own result's text.
    expect([first.body.summary, second.body.summary]).toEqual(results.map(resultText));
    expect([first.body.summary, second.body.summary]).toEqual(["First answer: the plan.", "Second answer: done."]);
  }, 90_000);

  it("resume the conversation of a turn that was interrupted mid-turn, whose work was kept", async () => {
    let answer!: () => void;
    const { model, receiver, agent, repo } = await claudeWorkspace([
      writeFile,
      // The model is still thinking when the turn is interrupted; it answers the next turn.
      { kind: "held", until: new Promise<void>((resolve) => (answer = resolve)), then: { kind: "text", text: "Picked up where I was stopped." } },
    ]);
    await agent.request("POST", "/workspaces/w_c/agent-sessions/s_i/start", { agent: "claude-code", prompt: "Add rate limiting notes", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY } });
    await model.heldReached; // the tool ran, and the CLI waits on the model

    const reason = "the task's spend budget of $5.00 is spent";
    expect(await agent.request("POST", "/workspaces/w_c/agent-sessions/s_i/interrupt", { turn: 1, reason })).toEqual({ status: 202, body: { sessionId: "s_i", status: "running" } });
    const first = await receiver.nth(/s_i\/completed$/, 1);
    // The CLI takes SIGINT as at a terminal: it notes "[Request interrupted by user]" and exits 0,
    // mostly without its result event (at times with a failed one). Its work is kept.
    expect(first.body).toMatchObject({ turn: 1, outcome: "succeeded", exitCode: 0, pushed: true, interrupted: { reason } });
    expect(first.body.error).toBeUndefined();
    expect(first.body.checks).toBeUndefined();
    expect(git(repo, "show", `${String(first.body.commit)}:RATE_LIMITS.md`)).toBe("limit: 10/min");
    const log = () => fs.readFileSync(path.join(agent.workDir, "workspaces", "w_c", "agent-s_i.log"), "utf8").split("\n");
    const results = () => log().filter((l) => l.includes('"type":"result"'));
    expect(log().join("\n")).toContain("[Request interrupted by user]");
    // Its usage is what its stream reported: none without a result event, a failed result's figures
    // with one. Neither has a summary (a failed result's text is the CLI's error, not the agent's words).
    const interruptedResult = results()[0];
    expect(first.body.usage).toEqual(interruptedResult ? resultUsage(interruptedResult) : undefined);
    expect(first.body.summary).toBeUndefined();

    answer();
    expect((await agent.request("POST", "/workspaces/w_c/agent-sessions/s_i/prompt", { prompt: "Go on", callbackToken: "cb", secrets: { ANTHROPIC_API_KEY: KEY }, turn: 2 })).status).toBe(202);
    const second = await receiver.nth(/s_i\/completed$/, 2);
    expect(second.body).toMatchObject({ turn: 2, outcome: "succeeded", exitCode: 0, summary: "Picked up where I was stopped." });
    expect(second.body.interrupted).toBeUndefined();
    // The same conversation: both turns' CLIs name one session id, and the follow-up's request carries the interrupted turn.
    const conversations = new Set(log().filter((l) => l.includes('"subtype":"init"')).map((l) => (JSON.parse(l) as { session_id: string }).session_id));
    expect(conversations.size).toBe(1);
    const followUp = model.mainRequests().find((r) => JSON.stringify(r.messages).includes("Go on"))!;
    const conversation = JSON.stringify(followUp.messages);
    expect(conversation).toContain("Add rate limiting notes");
    expect(conversation).toContain("tool_result");
    expect(conversation).toContain("[Request interrupted by user]");
  }, 90_000);

  it("are refused for an unknown session", async () => {
    const { agent } = await claudeWorkspace([]);
    expect((await agent.request("POST", "/workspaces/w_c/agent-sessions/s_none/prompt", { prompt: "x", callbackToken: "cb" })).status).toBe(404);
  });
});
