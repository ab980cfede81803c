import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSessions, tasks, users, workspaces, nodes } from "@/db/schema";
import type { SessionStatus, TaskStatus } from "../contracts/statuses";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { enterStep, recordRunCheckIn, recordRunSawAgentEnd, SupersededRunError } from "./steps";
import { redriveSilentRuns, redriveStalledRuns } from "./stalled";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database, { RUN_STALL_AFTER: "2m" });
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
}, 60_000);
afterAll(async () => database?.close());

async function taskWithSession(id: string, sessionStatus: SessionStatus, endedAgoMs: number | null) {
  await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", executionStep: "running", branch: `agents/${id}`, nodeId: "n1", workspaceId: `w_${id}`, runId: `run-${id}` });
  await database.db.insert(workspaces).values({ id: `w_${id}`, taskId: id, nodeId: "n1", branch: `agents/${id}`, status: "running" });
  const endedAt = endedAgoMs === null ? null : new Date(Date.now() - endedAgoMs);
  await database.db.insert(agentSessions).values({ id: `s_${id}`, workspaceId: `w_${id}`, taskId: id, agent: "script", status: sessionStatus, endedAt });
  return endedAt;
}

describe("runs the engine keeps without running them", () => {
  it("are re-driven once their agent ended RUN_STALL_AFTER ago and the run has not seen it; a run that saw it, or has time left, is not", async () => {
    await taskWithSession("stalled", "stopped", 3 * 60_000);
    await taskWithSession("stalled-failed", "error", 3 * 60_000);
    const seenEnd = await taskWithSession("seen", "stopped", 3 * 60_000);
    await recordRunSawAgentEnd(database.db, "seen", seenEnd);
    await taskWithSession("recent", "stopped", 30_000);
    await taskWithSession("working", "running", null);
    // A later turn: the run saw turn 1 end, then turn 2 ended long ago and the run has not looked.
    await taskWithSession("later-turn", "stopped", 3 * 60_000);
    await database.db.update(tasks).set({ runSawAgentEndAt: new Date(Date.now() - 10 * 60_000) }).where(eq(tasks.id, "later-turn"));

    // Its run was re-driven a moment ago: the new one has not had its time to look yet.
    await taskWithSession("just-redriven", "stopped", 3 * 60_000);
    await database.db.update(tasks).set({ runDispatchedAt: new Date(Date.now() - 5_000) }).where(eq(tasks.id, "just-redriven"));

    const redriven = await redriveStalledRuns(rt);
    expect(redriven.map((r) => r.taskId).sort()).toEqual(["later-turn", "stalled", "stalled-failed"]);
    // Nor is the re-driven run taken for stalled at the next pass (measured: one task re-driven 5 times in 13 s, then failed).
    expect(await redriveStalledRuns(rt)).toEqual([]);
    expect(redriven.every((r) => r.outcome === "redriven")).toBe(true);
    const [row] = await database.db.select().from(tasks).where(eq(tasks.id, "stalled"));
    expect(row!.runGeneration).toBe(1);
    expect(row!.runId).toBeNull();
    expect(rt.sent.filter((e) => e.name === "task/submitted").map((e) => (e.data as { taskId: string }).taskId).sort()).toEqual(["later-turn", "stalled", "stalled-failed"]);
    // Seeing the same end again writes nothing new; a newer end is recorded.
    const before = (await database.db.select().from(tasks).where(eq(tasks.id, "seen")))[0]!.runSawAgentEndAt;
    await recordRunSawAgentEnd(database.db, "seen", seenEnd);
    expect((await database.db.select().from(tasks).where(eq(tasks.id, "seen")))[0]!.runSawAgentEndAt).toEqual(before);
  });

  it("are re-driven when RUN_STALL_AFTER past the time they promised to call again; a run within its promise, or one not working, is not", async () => {
    const task = async (id: string, status: TaskStatus = "queued") =>
      database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status, branch: `agents/${id}`, runId: `run-${id}` });
    const promisedAgo = async (id: string, ms: number) => database.db.update(tasks).set({ runNextCheckBy: new Date(Date.now() - ms) }).where(eq(tasks.id, id));
    await task("silent");
    await promisedAgo("silent", 3 * 60_000);
    await task("late-but-within");
    await promisedAgo("late-but-within", 30_000);
    await task("waiting");
    await recordRunCheckIn(database.db, "waiting", 0, 10 * 60_000);
    await task("in-a-step", "delegated");
    await enterStep(database.db, "in-a-step", 0, 2 * 60_000);
    // A finished task has no run.
    await task("done", "completed");
    await promisedAgo("done", 3 * 60_000);
    // A new run has promised nothing until its first step.
    await task("unclaimed");

    const redriven = await redriveSilentRuns(rt);
    expect(redriven.map((r) => r.taskId)).toEqual(["silent"]);
    const [row] = await database.db.select().from(tasks).where(eq(tasks.id, "silent"));
    expect(row!.runNextCheckBy).toBeNull();
    expect(row!.runGeneration).toBe(1);
    expect((await redriveSilentRuns(rt)).map((r) => r.taskId)).toEqual([]);
    const [waiting] = await database.db.select().from(tasks).where(eq(tasks.id, "waiting"));
    expect(waiting!.runNextCheckBy!.getTime()).toBeGreaterThan(Date.now() + 9 * 60_000);

    // The superseded generation neither enters a step nor makes a promise for the new one.
    await expect(enterStep(database.db, "silent", 0, 60_000)).rejects.toBeInstanceOf(SupersededRunError);
    await recordRunCheckIn(database.db, "silent", 0, 60_000);
    expect((await database.db.select().from(tasks).where(eq(tasks.id, "silent")))[0]!.runNextCheckBy).toBeNull();
    await enterStep(database.db, "silent", 1, 60_000);
    expect((await database.db.select().from(tasks).where(eq(tasks.id, "silent")))[0]!.runNextCheckBy!.getTime()).toBeGreaterThan(Date.now());
  });
});
