import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "@/tests/harness/test-database";
import { agentOutput, agentSessions, nodes, taskAttempts, tasks, users, workspaces } from "@/db/schema";
import { TaskOutputQuery, type OutputBatch } from "../contracts/api";
import { readTaskOutput } from "./task-output";
import { recordAgentOutput } from "../sessions/output";

describe("readTaskOutput against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values([
      { id: "u1", email: "u1@example.test", name: "U" },
      { id: "u2", email: "u2@example.test", name: "V" },
    ]);
    await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
  }, 60_000);
  afterAll(async () => database?.close());

  /** A task of u1's, working in a workspace with an agent session. */
  async function task() {
    const n = ++seq;
    const [taskId, workspaceId, sessionId] = [`t${n}`, `w_${n}`, `s_${n}`];
    await database.db.insert(tasks).values({ id: taskId, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "claude-code", status: "in_progress", branch: `agents/p-${n}`, workspaceId });
    await database.db.insert(workspaces).values({ id: workspaceId, taskId, nodeId: "n1", status: "running", branch: `agents/p-${n}` });
    await database.db.insert(agentSessions).values({ id: sessionId, workspaceId, taskId, agent: "claude-code", status: "running" });
    return { taskId, sessionId };
  }

  /** Stores batches in the order given (as deliveries may land), each `[turn, offset, lines]`; a session's offsets never repeat. */
  async function store(taskId: string, sessionId: string, batches: [number, number, string[]][]) {
    for (const [turn, offset, lines] of batches) await database.db.insert(agentOutput).values({ taskId, sessionId, turn, offset, lines });
  }

  const query = (params: Record<string, string> = {}) => TaskOutputQuery.parse(params);

  async function page(taskId: string, params: Record<string, string> = {}, owner = "u1") {
    const result = await readTaskOutput(database.db, taskId, owner, query(params));
    if (result.outcome !== "page") throw new Error(`expected a page, got ${result.outcome}`);
    return result.page;
  }

  async function downloaded(taskId: string, params: Record<string, string>) {
    const result = await readTaskOutput(database.db, taskId, "u1", query(params));
    if (result.outcome !== "download") throw new Error(`expected a download, got ${result.outcome}`);
    let text = "";
    for await (const chunk of result.chunks) text += chunk;
    return { ...result, text };
  }

  it("answers another person's task, and an attempt it does not have, as not found", async () => {
    const { taskId } = await task();
    expect(await readTaskOutput(database.db, taskId, "u2", query())).toEqual({ outcome: "not_found" });
    expect(await readTaskOutput(database.db, "t-missing", "u1", query())).toEqual({ outcome: "not_found" });
    expect(await readTaskOutput(database.db, taskId, "u1", query({ attempt: "2" }))).toEqual({ outcome: "no_attempt", attempts: 1 });
  });

  it("pages batches in the order they were stored, with whole batches up to the limit, and counts them all", async () => {
    const { taskId, sessionId } = await task();
    // Turn 1's second batch lands after turn 2 began (a retried delivery).
    await store(taskId, sessionId, [
      [1, 0, ["a", "b"]],
      [2, 100, ["d"]],
      [1, 10, ["c"]],
      [2, 105, ["e", "f", "g"]],
    ]);
    const first = await page(taskId, { limit: "3" });
    expect(first).toMatchObject({ attempt: 1, batchCount: 4, more: true });
    expect(first.batches.map((b) => [b.turn, b.offset, b.lines])).toEqual([
      [1, 0, ["a", "b"]],
      [2, 100, ["d"]],
    ]);
    const second = await page(taskId, { limit: "3", after: String(first.after) });
    expect(second.batches.map((b) => b.lines)).toEqual([["c"]]);
    expect(second.more).toBe(true);
    // One batch larger than the limit still makes a page.
    const third = await page(taskId, { limit: "1", after: String(second.after) });
    expect(third.batches.map((b) => b.lines)).toEqual([["e", "f", "g"]]);
    expect(third.more).toBe(false);
    const after = await page(taskId, { after: String(third.after) });
    expect(after).toEqual({ attempt: 1, batches: [], batchCount: 4, dropped: null, after: third.after, more: false });
  });

  it("downloads every line in order (by turn, then place in the turn) as text and as NDJSON", async () => {
    const { taskId, sessionId } = await task();
    await store(taskId, sessionId, [
      [2, 100, ["turn 2"]],
      [1, 7, ["second", '{"type":"result"}']],
      [1, 0, ["first"]],
    ]);
    const text = await downloaded(taskId, { format: "text" });
    expect(text).toMatchObject({ filename: `task-${taskId}-attempt-1-output.txt`, contentType: "text/plain; charset=utf-8" });
    expect(text.text).toBe('first\nsecond\n{"type":"result"}\nturn 2\n');
    const ndjson = await downloaded(taskId, { format: "ndjson" });
    expect(ndjson.contentType).toBe("application/x-ndjson; charset=utf-8");
    expect(ndjson.text.trimEnd().split("\n").map((line) => JSON.parse(line))).toEqual([
      { turn: 1, line: "first" },
      { turn: 1, line: "second" },
      { turn: 1, line: '{"type":"result"}' },
      { turn: 2, line: "turn 2" },
    ]);
  });

  it("downloads more batches than one read holds, all of them", async () => {
    const { taskId, sessionId } = await task();
    const batches = Array.from({ length: 40 }, (_, i): [number, number, string[]] => [1, i * 100, [`line ${i}`]]);
    await store(taskId, sessionId, batches.reverse());
    const { text } = await downloaded(taskId, { format: "text" });
    expect(text.trimEnd().split("\n")).toEqual(Array.from({ length: 40 }, (_, i) => `line ${i}`));
    const all: OutputBatch[] = [];
    for (let after = "0"; ; ) {
      const next = await page(taskId, { after });
      all.push(...next.batches);
      if (!next.more) break;
      after = String(next.after);
    }
    expect(all).toHaveLength(40);
  });

  it("reads a retried task's attempts apart: an earlier one by number, the current one by default", async () => {
    const { taskId, sessionId } = await task();
    await database.db.insert(taskAttempts).values({ taskId, generation: 0, status: "failed", steps: [], sessionId: "s_earlier" });
    await store(taskId, "s_earlier", [[1, 0, ["from attempt 1"]]]);
    await store(taskId, sessionId, [[1, 0, ["from attempt 2"]]]);
    expect((await page(taskId)).batches.map((b) => b.lines)).toEqual([["from attempt 2"]]);
    expect(await page(taskId)).toMatchObject({ attempt: 2, batchCount: 1 });
    expect((await page(taskId, { attempt: "1" })).batches.map((b) => b.lines)).toEqual([["from attempt 1"]]);
    expect((await downloaded(taskId, { attempt: "1", format: "text" })).text).toBe("from attempt 1\n");
    expect(await readTaskOutput(database.db, taskId, "u1", query({ attempt: "3" }))).toEqual({ outcome: "no_attempt", attempts: 2 });
  });

  it("says in the page and in the download how much of the oldest output the task's quota removed", async () => {
    const { taskId, sessionId } = await task();
    const [row] = await database.db.select({ workspaceId: tasks.workspaceId }).from(tasks).where(eq(tasks.id, taskId));
    const lines = (n: number) => Array.from({ length: 4 }, (_, i) => `batch ${n} line ${i} ${"y".repeat(200)}`);
    for (let n = 0; n < 6; n++) {
      await recordAgentOutput(database.db, sessionId, { messageId: `q-${n}`, workspaceId: row!.workspaceId!, turn: 1, offset: n * 1000, lines: lines(n) }, 2_000);
    }
    const first = await page(taskId);
    expect(first.dropped).toEqual({ lines: 16, bytes: expect.any(Number) });
    expect(first.batches.map((b) => b.offset)).toEqual([4000, 5000]);

    const text = await downloaded(taskId, { format: "text" });
    const [notice, ...rest] = text.text.trimEnd().split("\n");
    expect(notice).toBe(`[16 earlier lines (${first.dropped!.bytes} bytes) of this task's output were removed: it passed TASK_OUTPUT_MAX_BYTES]`);
    expect(rest).toEqual([...lines(4), ...lines(5)]);
    const ndjson = await downloaded(taskId, { format: "ndjson" });
    expect(JSON.parse(ndjson.text.split("\n")[0]!)).toMatchObject({ turn: null, dropped: { lines: 16 } });
  });
});

describe("TaskOutputQuery", () => {
  it.each([
    [{ limit: "0" }, "limit", "must be from 1 to 10000"],
    [{ limit: "ten" }, "limit", "must be a whole number"],
    [{ after: "-1" }, "after", "must be a whole number"],
    [{ attempt: "0" }, "attempt", "must be from 1 to 1000000"],
    [{ format: "html" }, "format", undefined],
  ])("refuses %j naming %s", (params, field, message) => {
    const result = TaskOutputQuery.safeParse(params);
    expect(result.success).toBe(false);
    expect(result.error?.issues[0]?.path).toEqual([field]);
    if (message) expect(result.error?.issues[0]?.message).toBe(message);
  });

  it("defaults to the first JSON page of the current attempt", () => {
    expect(TaskOutputQuery.parse({})).toEqual({ after: 0, limit: 5_000, format: "json" });
  });

});
