/**
 * Budgets against a real database: a running turn's spend from its streamed responses (each
 * counted once, at its highest figure), the verdict for a task's own budget and its person's day
 * and month, a pause that begins once, a release that resumes an interrupted turn, and an
 * interrupted turn's record priced from what streamed.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "@/tests/harness/test-database";
import { taskMessages, tasks, taskTurns, users } from "@/db/schema";
import { parseConfig } from "../config";
import { recordTurn } from "../sessions/turns";
import { budgetPause, budgetVerdict, pauseForBudget, releaseIfUnder } from "./limits";
import { personSpend, recordMessageSpend, streamedTurnUsage, taskSpend } from "./spend";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let n = 0;
const config = parseConfig({});
const MODEL = "claude-sonnet-4-5-20250929";

/** A Claude Code `assistant` event: one content block of response `id`, with the response's usage. */
const assistant = (id: string, input: number, output: number) =>
  JSON.stringify({ type: "assistant", message: { id, model: MODEL, role: "assistant", content: [{ type: "text", text: "…" }], usage: { input_tokens: input, output_tokens: output, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 } } });
/** Its price at Anthropic's published $3 / $15 per million tokens. */
const price = (input: number, output: number) => (input * 3 + output * 15) / 1e6;

beforeAll(async () => {
  database = await openTestDatabase();
}, 60_000);
afterAll(async () => database?.close());

async function person(budgets?: { dailyUsd: number | null; monthlyUsd: number | null }) {
  const id = `u_b${++n}`;
  await database.db.insert(users).values({ id, email: `${id}@example.test`, name: id, ...(budgets ? { budgets } : {}) });
  return id;
}
async function runningTask(userId: string, budgetUsd: number | null) {
  const id = `t_b${++n}`;
  await database.db.insert(tasks).values({ id, userId, repository: "/tmp/r", prompt: "p", agent: "claude-code", model: MODEL, status: "in_progress", branch: `agents/${id}`, budgetUsd });
  return { taskId: id, sessionId: `s_b${n}`, userId };
}
const spend = (t: { taskId: string; sessionId: string; userId: string }, lines: string[], turn = 1) =>
  recordMessageSpend(database.db, { ...t, agent: "claude-code", model: MODEL, turn, lines, prices: config.MODEL_PRICES });

describe("a running turn's spend", () => {
  it("counts each response once, at its highest figure, however many events and batches repeat it", async () => {
    const t = await runningTask(await person(), 5);
    expect(await spend(t, [assistant("msg_1", 1000, 10), assistant("msg_1", 1000, 200), "not json", JSON.stringify({ type: "user" })])).toBe(true);
    expect(await spend(t, [assistant("msg_1", 1000, 200)])).toBe(false);
    expect(await spend(t, [assistant("msg_1", 1000, 100), assistant("msg_2", 2000, 50)])).toBe(true);
    expect(await taskSpend(database.db, t.taskId)).toBeCloseTo(price(1000, 200) + price(2000, 50), 10);
    expect(await streamedTurnUsage(database.db, t.sessionId, 1)).toEqual({ inputTokens: 3000, outputTokens: 250, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: expect.closeTo(price(1000, 200) + price(2000, 50), 10) });
    // A CLI that streams no per-response usage (the script agent) spends nothing mid-turn.
    expect(await recordMessageSpend(database.db, { ...t, agent: "script", model: null, turn: 1, lines: [assistant("msg_9", 1, 1)], prices: config.MODEL_PRICES })).toBe(false);
  });

  it("is replaced by the turn's record once it ends: an interrupted turn is priced from what streamed, marked as an estimate", async () => {
    const t = await runningTask(await person(), 5);
    await spend(t, [assistant("msg_a", 10_000, 1_000)]);
    const completion = { messageId: "m1", workspaceId: "w", outcome: "succeeded" as const, exitCode: 130, branch: "agents/x", commit: null, pushed: false, turn: 1 };
    await recordTurn(database.db, { taskId: t.taskId, sessionId: t.sessionId, turn: 1, body: completion, prices: config.MODEL_PRICES });
    const [row] = await database.db.select().from(taskTurns).where(eq(taskTurns.sessionId, t.sessionId));
    expect(row).toMatchObject({ inputTokens: 10_000, outputTokens: 1_000, costSource: "estimate" });
    expect(row!.costUsd).toBeCloseTo(price(10_000, 1_000), 10);
    // Counted once: the record, not the record and the stream.
    expect(await taskSpend(database.db, t.taskId)).toBeCloseTo(price(10_000, 1_000), 10);
  });
});

describe("the budget verdict", () => {
  it("holds a task at its own budget first, then its person's day, then month", async () => {
    const userId = await person({ dailyUsd: 1, monthlyUsd: 0.5 });
    const t = await runningTask(userId, 0.01);
    expect(await budgetVerdict(database.db, config, t.taskId)).toEqual({ over: false });
    await spend(t, [assistant("msg_x", 4000, 0)]); // $0.012
    expect(await budgetVerdict(database.db, config, t.taskId)).toMatchObject({ over: true, kind: "task", limitUsd: 0.01, reason: "budget of $0.01 reached ($0.01 spent): raise it or finish" });
    await database.db.update(tasks).set({ budgetUsd: null }).where(eq(tasks.id, t.taskId));
    expect(await budgetVerdict(database.db, config, t.taskId)).toEqual({ over: false });
    // Another task of the same person spends: their month (0.50) is reached before their day (1.00).
    const other = await runningTask(userId, null);
    await spend(other, [assistant("msg_y", 200_000, 0)]); // $0.60
    expect(await personSpend(database.db, userId)).toEqual({ day: expect.closeTo(0.612, 6), month: expect.closeTo(0.612, 6) });
    expect(await budgetVerdict(database.db, config, t.taskId)).toMatchObject({ over: true, kind: "month", reason: expect.stringMatching(/^monthly budget of \$0\.50 reached \(\$0\.61 spent this month\)/) });
    // The configured defaults apply when the person set none of their own.
    const configured = parseConfig({ USER_DAILY_BUDGET_USD: "0.25" });
    const plain = await runningTask(await person(), null);
    await spend(plain, [assistant("msg_z", 100_000, 0)]); // $0.30
    expect(await budgetVerdict(database.db, configured, plain.taskId)).toMatchObject({ over: true, kind: "day", limitUsd: 0.25 });
  });

  it("pauses once, and a raise releases the task with a follow-up that resumes the turn it interrupted", async () => {
    const t = await runningTask(await person(), 0.01);
    await spend(t, [assistant("msg_p", 4000, 0)]);
    expect(await pauseForBudget(database.db, t.taskId, "budget of $0.01 reached", 1)).toBe(true);
    expect(await pauseForBudget(database.db, t.taskId, "budget of $0.01 reached again", 1)).toBe(false);
    expect(await budgetPause(database.db, t.taskId)).toMatchObject({ reason: "budget of $0.01 reached again", interruptedTurn: 1 });
    // Still over: nothing is released.
    expect(await releaseIfUnder(database.db, config, t.taskId, t.sessionId)).toMatchObject({ released: false, verdict: { over: true } });
    await database.db.update(tasks).set({ budgetUsd: 1 }).where(eq(tasks.id, t.taskId));
    expect(await releaseIfUnder(database.db, config, t.taskId, t.sessionId)).toMatchObject({ released: true });
    expect(await budgetPause(database.db, t.taskId)).toBeUndefined();
    const messages = await database.db.select().from(taskMessages).where(eq(taskMessages.taskId, t.taskId));
    expect(messages).toEqual([expect.objectContaining({ author: "budget", status: "queued", clientId: `budget-resume-${t.sessionId}-t1`, body: expect.stringContaining("continue the task where you left off") })]);
  });
});
