import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "@/tests/harness/test-database";
import { eq } from "drizzle-orm";
import { agentOutput, agentSessions, bootLog, nodes, tasks, users, workspaces } from "@/db/schema";
import { recordBootLog, bootLogView, bootLogReadMaxBytes } from "../workspaces/boot-log";
import { outputViewMaxBytes, recordAgentOutput, taskOutput } from "./output";

describe("recordAgentOutput against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
    await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
  }, 60_000);
  afterAll(async () => database?.close());

  /** A task with a workspace and a running agent session, as the pipeline leaves them. */
  async function session() {
    const n = ++seq;
    const [taskId, workspaceId, sessionId] = [`t${n}`, `w_${n}`, `s_${n}`];
    await database.db.insert(tasks).values({ id: taskId, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/p-${n}` });
    await database.db.insert(workspaces).values({ id: workspaceId, taskId, nodeId: "n1", status: "running", branch: `agents/p-${n}` });
    await database.db.insert(agentSessions).values({ id: sessionId, workspaceId, taskId, agent: "script", status: "running" });
    return { taskId, workspaceId, sessionId };
  }

  const MAX = 64 * 1024 * 1024;
  const batch = (workspaceId: string, offset: number, lines: string[]) => ({ messageId: `m-${offset}`, workspaceId, turn: 1, offset, lines });

  it("stores a line with NUL, which jsonb cannot hold, with the NUL made visible", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 0, ["nul:\u0000:end", "plain"]), MAX)).toEqual({ outcome: "applied" });
    expect((await taskOutput(database.db, taskId, 100)).lines).toEqual(["nul:\u2400:end", "plain"]);
  });

  it("stores lines with lone surrogates, which jsonb cannot hold, as replacement characters; pairs stay", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    const lines = ["high:\ud800:end", "low:\udfff:end", "reversed:\udfff\ud800:end", "pair:\ud83d\ude00:ok"];
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 0, lines), MAX)).toEqual({ outcome: "applied" });
    expect((await taskOutput(database.db, taskId, 100)).lines).toEqual(["high:\ufffd:end", "low:\ufffd:end", "reversed:\ufffd\ufffd:end", "pair:😀:ok"]);
  });

  it("stores a line of 100,000 characters whole, and a repeat of the batch is a duplicate", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    const long = "é".repeat(50_000) + "x".repeat(50_000);
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 0, ["first"]), MAX)).toEqual({ outcome: "applied" });
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 6, [long, "after"]), MAX)).toEqual({ outcome: "applied" });
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 6, [long, "after"]), MAX)).toEqual({ outcome: "duplicate" });
    const { lines } = await taskOutput(database.db, taskId, 100);
    expect(lines).toEqual(["first", long, "after"]);
    expect(lines[1]).toHaveLength(100_000);
  });

  it("keeps a task's output under its quota: the oldest batches go, and the task records how many lines and bytes", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    // Ten batches of ten 98-character lines: about 1 KB each as stored.
    const lines = (n: number) => Array.from({ length: 10 }, (_, i) => `${String(n).padStart(2, "0")}:${String(i)}:${"x".repeat(93)}`);
    for (let n = 0; n < 10; n++) await recordAgentOutput(database.db, sessionId, batch(workspaceId, n * 1000, lines(n)), 3_500);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, taskId));
    const stored = await database.db.select({ offset: agentOutput.offset, bytes: agentOutput.bytes }).from(agentOutput).where(eq(agentOutput.taskId, taskId));
    const storedBytes = stored.reduce((sum, row) => sum + row.bytes, 0);
    expect(stored.map((row) => row.offset)).toEqual([7000, 8000, 9000]);
    expect(task!.outputBytes).toBe(storedBytes);
    expect(storedBytes).toBeLessThanOrEqual(3_500);
    expect(task!.outputDroppedLines).toBe(70);
    expect(task!.outputDroppedBytes).toBe(stored[0]!.bytes * 7);
    expect((await taskOutput(database.db, taskId, 100)).lines).toEqual([...lines(7), ...lines(8), ...lines(9)]);
  });

  it("reads a task view's newest output up to a byte cap in the query, however few lines that is", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    const big = (c: string) => [c.repeat(Math.ceil(outputViewMaxBytes() * 0.6))];
    for (const [n, c] of ["a", "b", "c"].entries()) await recordAgentOutput(database.db, sessionId, batch(workspaceId, n * 1_000_000, big(c)), 64 * 1024 * 1024);
    const view = await taskOutput(database.db, taskId, 100);
    expect(view.lines.map((line) => line[0])).toEqual(["b", "c"]);
    expect(view.truncated).toBe(true);
  });

  it("reads a boot log's newest setup lines up to a byte cap in the query, and says it was cut", async () => {
    const { workspaceId } = await session();
    const line = (c: string) => c.repeat(9_000);
    const reports = Math.ceil(bootLogReadMaxBytes() / 9_000) + 20;
    for (let n = 0; n < reports; n++) {
      await recordBootLog(database.db, workspaceId, { messageId: `boot-${workspaceId}-${n}`, at: n, stages: [], setupOutput: [line(String(n % 10))] });
    }
    const [row] = await database.db.select({ bytes: bootLog.bytes }).from(bootLog).where(eq(bootLog.workspaceId, workspaceId)).limit(1);
    expect(row!.bytes).toBeGreaterThan(9_000);
    const view = await bootLogView(database.db, workspaceId);
    expect(view.setupOutputTruncated).toBe(true);
    const kept = view.setupOutput.length;
    expect(kept * 9_000).toBeLessThanOrEqual(bootLogReadMaxBytes() + 9_100);
    expect(kept).toBeLessThan(reports - 10);
    // The newest are the ones kept, in order.
    expect(view.setupOutput.at(-1)).toBe(line(String((reports - 1) % 10)));
  });
});
