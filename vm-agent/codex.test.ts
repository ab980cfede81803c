import fs from "node:fs";
import path from "node:path";
/**
 * The codex agent for real: the Codex CLI from the npm registry in a tmux session on a real
 * workspace, against a double of OpenAI's published Responses API (tests/doubles).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startResponsesDouble, type ResponsesTurn } from "../tests/doubles/openai-responses";
import { git, makeRepo } from "../tests/harness/git";
import { nonLoopbackAddress, startReceiver, startTestAgent } from "./test-support";

/**
 * The model double listens on this machine's non-loopback address, which the workspace's egress
 * allows: the agent's CLI reaches it through its proxy (loopback is out of its namespace's reach),
 * the default allow-list admitting the model API host the node is configured with.
 */
const MODEL_HOST = nonLoopbackAddress() ?? "127.0.0.1";
const MODEL_EGRESS = { policy: "allow-list", allowPrivate: MODEL_HOST === "127.0.0.1" ? [] : [MODEL_HOST] };

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function codexWorkspace(script: ResponsesTurn[], overrides = {}) {
  const model = await startResponsesDouble(script, MODEL_HOST);
  const receiver = await startReceiver();
  const agent = await startTestAgent(receiver.url, { OPENAI_BASE_URL: model.url, ...overrides });
  cleanups.push(model.close, receiver.close, agent.close);
  const repo = makeRepo();
  await agent.request("POST", "/workspaces", { workspaceId: "w_x", taskId: "t", repository: repo, branch: "agents/codex-1", callbackToken: "cb", egress: MODEL_EGRESS });
  await receiver.next(/w_x\/ready$/);
  return { model, receiver, agent, repo };
}

/** The texts of a --json stream's completed agent_message items, in order. */
const agentMessages = (lines: string[]) =>
  lines
    .filter((l) => l.includes('"type":"item.completed"'))
    .map((l) => (JSON.parse(l) as { item: { type: string; text?: string } }).item)
    .filter((item) => item.type === "agent_message")
    .map((item) => item.text);

describe("codex agent", () => {
  it("runs the real CLI in tmux: the model's exec_command changes the worktree, and the work is committed and pushed", async () => {
    const { model, receiver, agent, repo } = await codexWorkspace([
      { kind: "function_call", name: "exec_command", arguments: { cmd: "printf 'codex was here\\n' > CODEX.md" } },
      { kind: "text", text: "Wrote CODEX.md." },
    ]);
    const prompt = `--help is not a flag here; "quotes" and $(no-expansion) stay as they are`;
    await agent.request("POST", "/workspaces/w_x/agent-sessions/s_x/start", { agent: "codex", prompt, callbackToken: "cb", secrets: { OPENAI_API_KEY: "sk-test" }, model: "gpt-5-codex" });
    const done = await receiver.next(/s_x\/completed$/);
    expect(done.body).toMatchObject({ outcome: "succeeded", exitCode: 0, pushed: true });
    expect(git(repo, "show", `${done.body.commit}:CODEX.md`)).toBe("codex was here");
    expect(model.requests).toHaveLength(2);
    expect(JSON.stringify(model.requests[0]!.input)).toContain(JSON.stringify(prompt).slice(1, -1));
    expect(model.requests.map((r) => r.model)).toEqual(["gpt-5-codex", "gpt-5-codex"]);
    // The second request carries the command's result back to the model.
    expect(model.requests[1]!.input.some((i) => i.type === "function_call_output")).toBe(true);
    // The completion carries the turn's usage as Codex's turn.completed gives it (cached input apart; Codex prices nothing).
    const log = fs.readFileSync(path.join(agent.workDir, "workspaces", "w_x", "agent-s_x.log"), "utf8").split("\n");
    const completed = log.find((l) => l.includes('"type":"turn.completed"'))!;
    const usage = (JSON.parse(completed) as { usage: { input_tokens: number; cached_input_tokens: number; output_tokens: number } }).usage;
    expect(usage.output_tokens).toBeGreaterThan(0);
    expect(done.body.usage).toEqual({ inputTokens: usage.input_tokens - usage.cached_input_tokens, outputTokens: usage.output_tokens, cacheReadTokens: usage.cached_input_tokens, cacheWriteTokens: 0 });
    // And its closing summary: the stream's last completed agent_message, the model's final text.
    expect(done.body.summary).toBe(agentMessages(log).at(-1));
    expect(done.body.summary).toBe("Wrote CODEX.md.");
  }, 90_000);

  it("reads a follow-up's prompt from its standard input too, resuming the same conversation", async () => {
    const { model, receiver, agent, repo } = await codexWorkspace([
      { kind: "text", text: "First: the plan." },
      { kind: "function_call", name: "exec_command", arguments: { cmd: "printf 'second turn\\n' > SECOND.md" } },
      { kind: "text", text: "Done." },
    ]);
    await agent.request("POST", "/workspaces/w_x/agent-sessions/s_f/start", { agent: "codex", prompt: "Make a plan", callbackToken: "cb", secrets: { OPENAI_API_KEY: "sk-test" } });
    const first = await receiver.nth(/s_f\/completed$/, 1);
    expect(first.body.outcome).toBe("succeeded");
    const followUp = "--now do it, as planned";
    expect((await agent.request("POST", "/workspaces/w_x/agent-sessions/s_f/prompt", { prompt: followUp, callbackToken: "cb", secrets: { OPENAI_API_KEY: "sk-test" } })).status).toBe(202);
    const second = await receiver.nth(/s_f\/completed$/, 2);
    expect(second.body, JSON.stringify(second.body)).toMatchObject({ outcome: "succeeded", exitCode: 0 });
    expect(git(repo, "show", `${String(second.body.commit)}:SECOND.md`)).toBe("second turn");
    // The follow-up's first request carries the first turn (resumed) and the new prompt as it was written.
    const resumed = JSON.stringify(model.requests[1]!.input);
    expect(resumed).toContain("Make a plan");
    expect(resumed).toContain("First: the plan.");
    expect(resumed).toContain(followUp);
    // Each turn's summary is its own last message (the log holds both turns').
    const log = fs.readFileSync(path.join(agent.workDir, "workspaces", "w_x", "agent-s_f.log"), "utf8").split("\n");
    expect(agentMessages(log)).toEqual(["First: the plan.", "Done."]);
    expect([first.body.summary, second.body.summary]).toEqual(["First: the plan.", "Done."]);
  }, 90_000);

  it("fails at once with a clear error when its start request brings no OpenAI key", async () => {
    const { receiver, agent } = await codexWorkspace([]);
    await agent.request("POST", "/workspaces/w_x/agent-sessions/s_n/start", { agent: "codex", prompt: "x", callbackToken: "cb" });
    const done = await receiver.next(/s_n\/completed$/);
    expect(done.body).toMatchObject({ outcome: "failed" });
    expect(done.body.error).toContain("OPENAI_API_KEY");
  });
});
