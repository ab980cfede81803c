/**
 * A budget crossed mid-turn, end to end: the real app, engine, database, a local node and the real
 * Claude Code CLI against a model double whose second response reports enough tokens to cross the
 * task's budget while the agent is still working (its tool sleeps). The control plane sees the
 * response's usage in the streamed output, pauses the task and has the node interrupt the agent;
 * the work so far is committed and pushed; raising the budget resumes the same session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskDetail } from "@/lib/contracts/api";
import { startAnthropicDouble } from "../doubles/anthropic-api";
import { git, makeRepo } from "../harness/git";
import { hostAddress } from "../harness/host-address";
import { untilFinished, untilTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
let model: Awaited<ReturnType<typeof startAnthropicDouble>>;

beforeAll(async () => {
  model = await startAnthropicDouble(
    [
      { kind: "tool_use", name: "Bash", input: { command: "printf 'part one\\n' > WORK.md", description: "Write part one" } },
      // 10,000 input tokens at Anthropic's $3 per million: $0.03, past the task's $0.02, while the tool still runs.
      { kind: "tool_use", name: "Bash", input: { command: "tail -f /dev/null", description: "Watch for a long time" }, usage: { input_tokens: 10_000, output_tokens: 100 } },
      { kind: "text", text: "Finished the work." },
    ],
    hostAddress(),
  );
  system = await startTestSystem({ EGRESS_ALLOW_PRIVATE: hostAddress(), ANTHROPIC_API_KEY: "sk-test", ANTHROPIC_BASE_URL: model.url, SESSION_IDLE_TIMEOUT: "10m" });
});
afterAll(async () => {
  await system?.stop();
  await model?.close();
});

const until = (taskId: string, predicate: (t: TaskDetail) => boolean, what: string) => untilTask(system, taskId, predicate, what, 120_000);

describe("a task's budget", () => {
  it("crossed mid-turn: the agent is interrupted, its work pushed, the task waits; raised, the same session goes on", async () => {
    const repo = makeRepo();
    const bad = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Do the work", agent: "claude-code", model: "claude-sonnet-4-5", budgetUsd: -1 });
    expect(bad).toMatchObject({ status: 422, body: { field: "budgetUsd" } });
    const { status, body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: "Do the work", agent: "claude-code", model: "claude-sonnet-4-5", budgetUsd: 0.02 });
    expect(status, JSON.stringify(body)).toBe(202);
    const taskId = body.taskId as string;

    const paused = await until(taskId, (t) => t.budget.paused !== null && t.executionStep === "awaiting_followup" && t.session?.status !== "running", "paused at its budget");
    expect(paused.status).toBe("in_progress");
    expect(paused.budget).toMatchObject({ limitUsd: 0.02, paused: { kind: "task", interruptedTurn: 1, reason: expect.stringMatching(/^budget of \$0\.02 reached \(\$0\.03 spent\): raise it or finish$/) } });
    expect(paused.steps.find((s) => s.step === "awaiting_followup")?.detail).toBe(paused.budget.paused!.reason);
    // The work before the interrupt is committed and pushed; the sleeping tool never finished, and nothing more was asked of the model.
    expect(git(repo, "show", `${paused.branch}:WORK.md`)).toBe("part one");
    expect(paused.pushed).toBe(true);
    expect(model.mainRequests()).toHaveLength(2);
    // The cut-short turn is recorded at its full cost: the CLI's own figure when it wrote a result as it stopped
    // (it mostly does not), else what its responses cost as they streamed.
    expect(paused.usageDetail.turns).toEqual([expect.objectContaining({ turn: 1, costSource: expect.stringMatching(/^(agent|estimate)$/), inputTokens: 10_120 })]);
    expect(paused.usageDetail.turns[0]!.costUsd).toBeGreaterThanOrEqual(0.03);

    // A follow-up sent meanwhile waits for the budget; a raise that would not cover the spend is refused, naming the field.
    const sent = await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "Also write part two" });
    expect(sent).toMatchObject({ status: 202, body: { message: { status: "queued" } } });
    expect(await system.api("PUT", `/api/tasks/${taskId}/budget`, { budgetUsd: 0.03 })).toMatchObject({ status: 422, body: { field: "budgetUsd", error: expect.stringContaining("must be more than the $0.03") } });
    expect(await system.api("PUT", `/api/tasks/${taskId}/budget`, { budgetUsd: "lots" })).toMatchObject({ status: 422, body: { field: "budgetUsd" } });

    const raised = await system.api("PUT", `/api/tasks/${taskId}/budget`, { budgetUsd: 1 });
    expect(raised).toMatchObject({ status: 200, body: { limitUsd: 1, paused: null } });
    const resumed = await until(taskId, (t) => t.executionStep === "awaiting_followup" && t.messages.length === 2 && t.messages.every((m) => m.status === "delivered") && t.session?.status !== "running", "turn 2 done");
    expect(resumed.messages.map((m) => [m.author, m.turn])).toEqual([
      ["person", 2],
      ["budget", 2],
    ]);
    expect(resumed.budget.paused).toBeNull();
    // The same session and the same conversation: the model saw turn 1 again when turn 2 asked.
    expect(resumed.session?.id).toBe(paused.session?.id);
    const third = model.mainRequests()[2]!;
    expect(JSON.stringify(third.messages)).toContain("WORK.md");
    expect(JSON.stringify(third.messages)).toContain("continue the task where you left off");

    expect((await system.api("POST", `/api/tasks/${taskId}/finish`)).status).toBe(202);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status).toBe("completed");
    expect(done.budget.spentUsd).toBeGreaterThanOrEqual(0.03);
    // Turn 2 made one small call: it costs that call, not the conversation's running total the resumed CLI reports.
    expect(done.usageDetail.turns.map((t) => t.turn)).toEqual([1, 2]);
    expect(done.usageDetail.turns[1]!.costUsd).toBeLessThan(0.005);
    expect(done.budget.spentUsd).toBeCloseTo(done.usageDetail.total.costUsd, 10);
  });
});
