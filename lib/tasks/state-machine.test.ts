import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "@/tests/harness/test-database";
import { tasks, taskStatusEvents, users, liveEvents } from "@/db/schema";
import { TaskStatus } from "../contracts/api";
import { TRANSITIONS, canTransition, isTerminal, transitionTask } from "./state-machine";

const ALL = TaskStatus.options;

const ALLOWED: Record<string, string[]> = {
  draft: ["ready", "cancelled"],
  ready: ["queued", "delegated", "cancelled"],
  queued: ["delegated", "failed", "cancelled"],
  delegated: ["in_progress", "failed", "cancelled"],
  in_progress: ["completed", "failed", "cancelled"],
  completed: [],
  failed: ["ready", "cancelled"],
  cancelled: ["ready"],
};

describe("canTransition", () => {
  const pairs = ALL.flatMap((from) => ALL.map((to) => [from, to] as const));
  it.each(pairs)("%s → %s follows the table", (from, to) => {
    const expected = from === to || (ALLOWED[from] ?? []).includes(to);
    expect(canTransition(from, to)).toBe(expected);
  });

  it("terminal statuses are exactly completed, failed and cancelled", () => {
    expect(ALL.filter(isTerminal)).toEqual(["completed", "failed", "cancelled"]);
    expect(TRANSITIONS.completed).toEqual([]);
  });
});

describe("transitionTask against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  }, 60_000);
  afterAll(async () => database?.close());

  async function taskIn(status: TaskStatus) {
    const id = `t${++seq}`;
    await database.db.insert(tasks).values({
      id,
      userId: "u1",
      repository: "/tmp/r",
      prompt: "p",
      agent: "script",
      status,
      branch: `agents/p-${id}`,
      executionStep: "running",
      errorMessage: "old error",
      commitSha: "a".repeat(40),
      nodeId: "n1",
      workspaceId: "w1",
    });
    return id;
  }
  const statusOf = async (id: string) =>
    (await database.db.select().from(tasks).where(eq(tasks.id, id)))[0]!;
  const eventsOf = (id: string) => database.db.select().from(taskStatusEvents).where(eq(taskStatusEvents.taskId, id));

  beforeEach(() => undefined);

  const pairs = ALL.flatMap((from) => ALL.filter((to) => to !== from).map((to) => [from, to] as const));
  it.each(pairs)("%s → %s moves only when allowed, with a status event", async (from, to) => {
    const id = await taskIn(from);
    const result = await transitionTask(database.db, { taskId: id, to, actor: "system", reason: "test" });
    const allowed = (ALLOWED[from] ?? []).includes(to);
    const row = await statusOf(id);
    const events = await eventsOf(id);
    if (allowed) {
      expect(result).toEqual({ outcome: "moved", from, to });
      expect(row.status).toBe(to);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ fromStatus: from, toStatus: to, actor: "system", reason: "test" });
    } else {
      expect(result).toEqual({ outcome: "refused", status: from });
      expect(row.status).toBe(from);
      expect(events).toHaveLength(0);
    }
  });

  it("same status again is a no-op without an event", async () => {
    const id = await taskIn("queued");
    expect(await transitionTask(database.db, { taskId: id, to: "queued", actor: "system" })).toEqual({
      outcome: "unchanged",
      status: "queued",
    });
    expect(await eventsOf(id)).toHaveLength(0);
  });

  it("ready clears the previous run's fields", async () => {
    const id = await taskIn("failed");
    await transitionTask(database.db, { taskId: id, to: "ready", actor: "user" });
    const row = await statusOf(id);
    expect(row).toMatchObject({ status: "ready", executionStep: null, errorMessage: null, commitSha: null, nodeId: null, workspaceId: null });
  });

  it("terminal statuses stamp completedAt and in_progress stamps startedAt", async () => {
    const id = await taskIn("delegated");
    await transitionTask(database.db, { taskId: id, to: "in_progress", actor: "system" });
    expect((await statusOf(id)).startedAt).toBeInstanceOf(Date);
    await transitionTask(database.db, { taskId: id, to: "completed", actor: "workspace_callback" });
    expect((await statusOf(id)).completedAt).toBeInstanceOf(Date);
  });

  it("an expected-from list narrows what may move", async () => {
    const id = await taskIn("delegated");
    const result = await transitionTask(database.db, { taskId: id, to: "failed", actor: "system", from: ["queued"] });
    expect(result).toEqual({ outcome: "refused", status: "delegated" });
  });

  it("unknown task is not_found", async () => {
    expect(await transitionTask(database.db, { taskId: "nope", to: "failed", actor: "system" })).toEqual({ outcome: "not_found" });
  });

  it("of two racing writers exactly one wins", async () => {
    const id = await taskIn("in_progress");
    const results = await Promise.all([
      transitionTask(database.db, { taskId: id, to: "completed", actor: "workspace_callback" }),
      transitionTask(database.db, { taskId: id, to: "cancelled", actor: "user" }),
    ]);
    expect(results.filter((r) => r.outcome === "moved")).toHaveLength(1);
    expect(await eventsOf(id)).toHaveLength(1);
  });

  it("a move publishes a live event in the same transaction", async () => {
    const id = await taskIn("queued");
    await transitionTask(database.db, { taskId: id, to: "delegated", actor: "system" });
    const live = await database.db.select().from(liveEvents).where(eq(liveEvents.taskId, id));
    expect(live.map((e) => e.kind)).toEqual(["status"]);
  });
});
