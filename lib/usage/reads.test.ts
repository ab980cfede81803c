import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { and, eq } from "drizzle-orm";
import { nodes, tasks, taskTurns, users, workspaces } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import type { AgentCompletedCallback } from "../contracts/vm-agent";
import { recordTurn } from "../sessions/turns";
import { DEFAULT_PRICE_TABLE } from "./pricing";
import { taskUsage, usageByDay, usageOfTasks } from "./reads";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const HOUR = 3_600_000;
const now = new Date("2026-12-07T15:00:00Z");

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values([
    { id: "ann", email: "ann@example.test", name: "Ann" },
    { id: "bob", email: "bob@example.test", name: "Bob" },
  ]);
  await database.db.insert(nodes).values({ id: "n1", userId: "ann", provider: "local", status: "running" });
}, 60_000);
afterAll(async () => database?.close());

async function task(id: string, userId: string, agent: string, model: string | null) {
  await database.db.insert(tasks).values({ id, userId, repository: "/tmp/r", prompt: "p", agent, model, status: "in_progress", branch: `agents/${id}` });
}
const body = (sessionId: string, turn: number, usage?: AgentCompletedCallback["usage"], summary?: string): AgentCompletedCallback => ({
  messageId: `${sessionId}-t${turn}`,
  workspaceId: "w",
  outcome: "succeeded",
  exitCode: 0,
  branch: "agents/x",
  commit: null,
  pushed: false,
  turn,
  ...(usage ? { usage } : {}),
  ...(summary ? { summary } : {}),
});
const record = (taskId: string, sessionId: string, turn: number, usage?: AgentCompletedCallback["usage"], summary?: string) =>
  recordTurn(database.db, { taskId, sessionId, turn, body: body(sessionId, turn, usage, summary), prices: DEFAULT_PRICE_TABLE });

describe("a task's usage", () => {
  it("adds its turns as the CLI reported them, prices Codex's from the table when recorded, and skips turns that reported nothing", async () => {
    await task("t-codex", "ann", "codex", "gpt-5-codex");
    await record("t-codex", "s1", 1, { inputTokens: 100_000, outputTokens: 2_000, cacheReadTokens: 400_000, cacheWriteTokens: 0 });
    await record("t-codex", "s1", 2, { inputTokens: 50_000, outputTokens: 1_000, cacheReadTokens: 0, cacheWriteTokens: 0 });
    // The same session turn reported again (a retried callback) counts once.
    await record("t-codex", "s1", 2, { inputTokens: 50_000, outputTokens: 1_000, cacheReadTokens: 0, cacheWriteTokens: 0 });
    // A retry's turn without figures (its agent crashed) is a turn, but not usage.
    await record("t-codex", "s2", 1);
    const usage = await taskUsage(database.db, "t-codex");
    expect(usage.turns.map((t) => [t.attempt, t.turn, t.costSource])).toEqual([
      [1, 1, "price-table"],
      [1, 2, "price-table"],
    ]);
    expect(usage.turns[0]!.costUsd).toBeCloseTo(0.1 * 1.25 + 0.4 * 0.125 + 0.002 * 10, 10);
    expect(usage.total).toMatchObject({ inputTokens: 150_000, outputTokens: 3_000, cacheReadTokens: 400_000, turns: 2, unpricedTurns: 0 });
    expect(usage.total.costUsd).toBeCloseTo(0.195 + 0.0725, 10);
  });

  it("keeps Claude Code's own price, and counts a turn of an unknown model as unpriced rather than free", async () => {
    await task("t-claude", "ann", "claude-code", "claude-sonnet-4-5");
    await record("t-claude", "s3", 1, { inputTokens: 480, outputTokens: 96, cacheReadTokens: 0, cacheWriteTokens: 0, costUsd: 0.00384 });
    await task("t-unknown", "ann", "codex", "house-model");
    await record("t-unknown", "s4", 1, { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 });
    expect((await taskUsage(database.db, "t-claude")).turns[0]).toMatchObject({ costUsd: 0.00384, costSource: "agent" });
    const unknown = await taskUsage(database.db, "t-unknown");
    expect(unknown.turns[0]).toMatchObject({ costUsd: null, costSource: null, inputTokens: 10 });
    expect(unknown.total).toMatchObject({ costUsd: 0, turns: 1, unpricedTurns: 1 });

    const list = await usageOfTasks(database.db, ["t-codex", "t-claude", "t-unknown", "t-none"]);
    expect(list.get("t-claude")).toEqual({ costUsd: 0.00384, tokens: 576, unpricedTurns: 0 });
    expect(list.get("t-unknown")).toEqual({ costUsd: 0, tokens: 15, unpricedTurns: 1 });
    expect(list.has("t-none")).toBe(false);
  });

  it("lists each turn with the closing summary its completion carried, null for a turn that gave none", async () => {
    await task("t-summary", "ann", "claude-code", "claude-sonnet-4-5");
    const figures = { inputTokens: 10, outputTokens: 5, cacheReadTokens: 0, cacheWriteTokens: 0 };
    await record("t-summary", "s-summary", 1, figures, "Wrote the plan.");
    await record("t-summary", "s-summary", 2, figures);
    expect((await taskUsage(database.db, "t-summary")).turns.map((t) => [t.turn, t.summary])).toEqual([
      [1, "Wrote the plan."],
      [2, null],
    ]);
  });

  it("counts the time its workspaces held a node, to now while one lives", async () => {
    await task("t-node", "ann", "script", null);
    const started = new Date(Date.now() - 2 * HOUR);
    await database.db.insert(workspaces).values([
      { id: "w-ended", taskId: "t-node", nodeId: "n1", branch: "b", status: "stopped", createdAt: started, endedAt: new Date(started.getTime() + 30 * 60_000) },
      { id: "w-live", taskId: "t-node", nodeId: "n1", branch: "b", status: "running", createdAt: new Date(Date.now() - HOUR) },
    ]);
    const usage = await taskUsage(database.db, "t-node");
    expect(usage.onNode).toBe(true);
    expect(usage.nodeMs).toBeGreaterThanOrEqual(1.5 * HOUR);
    expect(usage.nodeMs).toBeLessThan(1.5 * HOUR + 60_000);
  });
});

describe("usage per person per day", () => {
  it("sums each person's turns by the UTC day they ended, and shows one person only their own", async () => {
    await task("t-bob", "bob", "claude-code", null);
    await record("t-bob", "s5", 1, { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, costUsd: 1.5 });
    await record("t-bob", "s5", 2, { inputTokens: 1, outputTokens: 2, cacheReadTokens: 3, cacheWriteTokens: 4, costUsd: 0.5 });
    // Bob's first turn ended yesterday (UTC), his second today.
    await database.db.update(taskTurns).set({ createdAt: new Date("2026-12-06T23:30:00Z") }).where(and(eq(taskTurns.sessionId, "s5"), eq(taskTurns.turn, 1)));
    await database.db.update(taskTurns).set({ createdAt: new Date("2026-12-07T00:30:00Z") }).where(and(eq(taskTurns.sessionId, "s5"), eq(taskTurns.turn, 2)));

    const bob = await usageByDay(database.db, { userIds: ["bob"], days: 7, now });
    expect(bob.from).toBe("2026-12-01");
    expect(bob.to).toBe("2026-12-07");
    expect(bob.days.map((d) => [d.day, d.userId, d.costUsd, d.turns, d.tasks])).toEqual([
      ["2026-12-06", "bob", 1.5, 1, 1],
      ["2026-12-07", "bob", 0.5, 1, 1],
    ]);
    expect(bob.people).toEqual([{ id: "bob", name: "Bob", email: "bob@example.test" }]);
    expect(bob.total).toMatchObject({ costUsd: 2, inputTokens: 2, outputTokens: 4, cacheReadTokens: 6, cacheWriteTokens: 8, turns: 2 });
    // A window that ends before the turns holds none of them.
    expect((await usageByDay(database.db, { userIds: ["bob"], days: 3, now: new Date("2026-12-01T12:00:00Z") })).days).toEqual([]);
  });
});
