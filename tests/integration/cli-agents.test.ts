/**
 * Tasks with the CLI agents through the whole system: the real app, Inngest, PostgreSQL, a local
 * node's vm-agent, tmux and the real Claude Code and Codex CLIs. Only the models are doubles.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { TaskDetail, TaskSummary, UsageReport } from "@/lib/contracts/api";
import { totalTokens } from "@/lib/contracts/usage";
import { readLocalNodeRecord } from "@/lib/nodes/providers/local";
import { startAnthropicDouble } from "../doubles/anthropic-api";
import { startResponsesDouble } from "../doubles/openai-responses";
import { git, makeRepo } from "../harness/git";
import { untilFinished } from "../harness/live-client";
import { hostAddress } from "../harness/host-address";
import { startTestSystem, type TestSystem } from "../harness/test-system";

/** The first of the CLI's JSON events of `type` among a task's output lines (as the CLI wrote it). */
function streamEvent<Event>(lines: string[], type: string): Event {
  const found = lines.filter((l) => l.startsWith("{")).find((l) => (JSON.parse(l) as { type?: string }).type === type);
  if (!found) throw new Error(`no ${type} event in the task's output`);
  return JSON.parse(found) as Event;
}

let system: TestSystem;
let model: Awaited<ReturnType<typeof startAnthropicDouble>>;
let openai: Awaited<ReturnType<typeof startResponsesDouble>>;

beforeAll(async () => {
  model = await startAnthropicDouble([
    { kind: "tool_use", name: "Bash", input: { command: "printf '# Contributing\\n' > CONTRIBUTING.md", description: "Write the guide" } },
    { kind: "text", text: "Wrote CONTRIBUTING.md." },
  ], hostAddress());
  openai = await startResponsesDouble([
    { kind: "function_call", name: "exec_command", arguments: { cmd: "printf 'MIT\\n' > LICENSE" } },
    { kind: "text", text: "Added LICENSE." },
  ], hostAddress());
  // The warm pool is on, as users run it: a key stored later must still reach agents on nodes booted before.
  // Codex tasks default to CODEX_MODEL; a claude-code submission names its own model.
  // The model APIs' doubles listen on this machine's own address, which workspaces reach only
  // through their egress proxy and only because it is allowed (loopback never is).
  system = await startTestSystem({ EGRESS_ALLOW_PRIVATE: hostAddress(), ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: model.url, OPENAI_API_KEY: "sk-test", OPENAI_BASE_URL: openai.url, NODE_WARM_TIMEOUT: "10m", CODEX_MODEL: "gpt-5-codex-default", MODEL_PRICES: "gpt-5-codex-default=2/0.5/8" });
});
afterAll(async () => {
  await system?.stop();
  await model?.close();
  await openai?.close();
});

it("a claude-code task runs the real CLI on a node and completes with the model's change committed", async () => {
  const repo = makeRepo();
  const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Add a contributing guide", agent: "claude-code", model: "claude-sonnet-4-5" });
  expect(status).toBe(202);
  const { done } = await untilFinished(system, body.taskId, 90_000);
  expect(done.status, done.error ?? "").toBe("completed");
  expect(done.model).toBe("claude-sonnet-4-5");
  expect(git(repo, "show", `${done.branch}:CONTRIBUTING.md`)).toBe("# Contributing");
  expect(model.mainRequests()).toHaveLength(2);
  expect(model.mainRequests().map((r) => r.model)).toEqual(["claude-sonnet-4-5", "claude-sonnet-4-5"]);
  // The CLI's event stream is the task's agent output: its init, the tool call and its result.
  const events = done.output.lines.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { type: string }).type);
  expect(events[0]).toBe("system");
  expect(events).toContain("assistant");
  expect(events[events.length - 1]).toBe("result");
  // The Tried line: the result event's usage and price are the task's, on its page's API and in the list.
  const result = streamEvent<{ usage: Record<string, number>; total_cost_usd: number; result: string }>(done.output.lines, "result");
  expect(result.total_cost_usd).toBeGreaterThan(0);
  const fromStream = { inputTokens: result.usage.input_tokens!, outputTokens: result.usage.output_tokens!, cacheReadTokens: result.usage.cache_read_input_tokens ?? 0, cacheWriteTokens: result.usage.cache_creation_input_tokens ?? 0 };
  const detail = (await system.api("GET", `/api/tasks/${body.taskId}`)).body as TaskDetail;
  // The turn's summary is the result's final text, the model's closing answer.
  expect(result.result).toBe("Wrote CONTRIBUTING.md.");
  expect(detail.usageDetail.turns).toEqual([{ attempt: 1, turn: 1, ...fromStream, costUsd: result.total_cost_usd, costSource: "agent", endedAt: expect.any(String), summary: result.result }]);
  expect(detail.usageDetail.total).toEqual({ ...fromStream, costUsd: result.total_cost_usd, turns: 1, unpricedTurns: 0 });
  expect(detail.usageDetail.nodeMs).toBeGreaterThan(0);
  const listed = ((await system.api("GET", "/api/tasks")).body as { tasks: TaskSummary[] }).tasks.find((t) => t.id === body.taskId)!;
  expect(listed.usage).toEqual({ costUsd: result.total_cost_usd, tokens: totalTokens(fromStream), unpricedTurns: 0 });
});

it("a codex task runs the real Codex CLI on a node and completes with the model's change committed", async () => {
  const repo = makeRepo();
  const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Add a license", agent: "codex" });
  expect(status).toBe(202);
  const { done } = await untilFinished(system, body.taskId, 90_000);
  expect(done.status, done.error ?? "").toBe("completed");
  expect(git(repo, "show", `${done.branch}:LICENSE`)).toBe("MIT");
  expect(done.model).toBe("gpt-5-codex-default");
  expect(openai.requests.map((r) => r.model)).toEqual(["gpt-5-codex-default", "gpt-5-codex-default"]);
  // Codex's --json event stream is the task's agent output.
  const events = done.output.lines.filter((l) => l.startsWith("{")).map((l) => (JSON.parse(l) as { type: string }).type);
  expect(events).toContain("thread.started");
  expect(events[events.length - 1]).toBe("turn.completed");
  // Codex reports tokens only: the task's cost is its model's price from MODEL_PRICES (set below for this model).
  const completed = streamEvent<{ usage: { input_tokens: number; cached_input_tokens: number; output_tokens: number } }>(done.output.lines, "turn.completed");
  const { input_tokens: input, cached_input_tokens: cached, output_tokens: output } = completed.usage;
  expect(output).toBeGreaterThan(0);
  const detail = (await system.api("GET", `/api/tasks/${body.taskId}`)).body as TaskDetail;
  expect(detail.usageDetail.turns).toEqual([
    // Its summary: the stream's last agent message, the model's closing text.
    { attempt: 1, turn: 1, inputTokens: input - cached, outputTokens: output, cacheReadTokens: cached, cacheWriteTokens: 0, costUsd: expect.any(Number), costSource: "price-table", endedAt: expect.any(String), summary: "Added LICENSE." },
  ]);
  // gpt-5-codex-default: $2 per million fresh input tokens, $0.5 cached, $8 output.
  expect(detail.usageDetail.total.costUsd).toBeCloseTo(((input - cached) * 2 + cached * 0.5 + output * 8) / 1e6, 12);
});

it("a key the person stores after their node booted reaches their next claude-code agent, and never the node's own environment", async () => {
  const warm = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: "Warm a node" });
  const { done: first } = await untilFinished(system, warm.body.taskId, 90_000);
  expect(first.status).toBe("completed");
  const stored = "sk-ant-stored-after-the-node-booted";
  const storedAt = Date.now();
  expect((await system.api("PUT", "/api/secrets/ANTHROPIC_API_KEY", { value: stored })).status).toBe(200);

  const before = model.mainRequests().length;
  const { body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: "Say hello", agent: "claude-code" });
  const { done } = await untilFinished(system, body.taskId, 90_000);
  expect(done.status, done.error ?? "").toBe("completed");
  // It ran on a warm node that booted before the key existed.
  const { body: listed } = await system.api("GET", "/api/nodes");
  const node = (listed.nodes as { id: string; createdAt: string }[]).find((n) => n.id === done.node?.id)!;
  expect(Date.parse(node.createdAt)).toBeLessThan(storedAt);
  const calls = model.mainRequests().slice(before);
  expect(calls.length).toBeGreaterThan(0);
  expect(calls.every((r) => r.apiKey === stored)).toBe(true);
  // Keys travel with each session's start request: the node's daemon was never given one.
  const daemon = readLocalNodeRecord(path.join(system.dataDir, "nodes", node.id))!;
  const environ = fs.readFileSync(`/proc/${daemon.pid}/environ`, "utf8").split("\0");
  expect(environ.filter((entry) => /^(ANTHROPIC|OPENAI)_API_KEY=/.test(entry))).toEqual([]);
  expect((await system.api("DELETE", "/api/secrets/ANTHROPIC_API_KEY")).status).toBe(200);
});

it("GET /api/usage adds the person's tasks up per day, as the task pages show them, and names a bad parameter", async () => {
  const { body } = await system.api("GET", "/api/tasks");
  const tasks = (body.tasks as TaskSummary[]).filter((t) => t.usage);
  expect(tasks.length).toBeGreaterThanOrEqual(2);
  const report = (await system.api("GET", "/api/usage?days=7")).body as UsageReport;
  // One day (two, if the run crossed midnight UTC), all the person's.
  expect(report.days.length).toBeGreaterThanOrEqual(1);
  expect(report.days.at(-1)!.day).toBe(new Date().toISOString().slice(0, 10));
  expect(report.people.map((p) => p.id)).toEqual([report.days[0]!.userId]);
  expect(report.total.costUsd).toBeCloseTo(tasks.reduce((sum, t) => sum + t.usage!.costUsd, 0), 12);
  expect(totalTokens(report.total)).toBe(tasks.reduce((sum, t) => sum + t.usage!.tokens, 0));
  expect(report.days.reduce((sum, d) => sum + d.tasks, 0)).toBe(tasks.length);
  expect(report.total.nodeMs).toBeGreaterThan(0);

  const bad = await system.api("GET", "/api/usage?days=0");
  expect(bad.status).toBe(422);
  expect(bad.body).toMatchObject({ field: "days" });
  expect((await system.api("GET", "/api/usage?scope=everyone")).body).toMatchObject({ field: "scope" });
});
