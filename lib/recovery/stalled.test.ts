import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSessions, tasks, users, workspaces, nodes } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { recordRunCheckIn, recordRunSawAgentEnd, redriveSilentRuns, redriveStalledRuns } from "./stalled";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database, { RUN_STALL_AFTER: "2m" });
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
}, 60_000);
afterAll(async () => database?.close());

async function taskWithSession(id: string, sessionStatus: string, endedAgoMs: number | null) {
  await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/${id}`, nodeId: "n1", workspaceId: `w_${id}`, runId: `run-${id}` });
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

    const redriven = await redriveStalledRuns(rt);
    expect(redriven.map((r) => r.taskId).sort()).toEqual(["later-turn", "stalled", "stalled-failed"]);
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

  it("are re-driven when RUN_STALL_AFTER past the time they promised to look again; a run within its promise, or not waiting, is not", async () => {
    const queued = async (id: string) =>
      database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${id}`, runId: `run-${id}` });
    await queued("silent");
    await database.db.update(tasks).set({ runNextCheckBy: new Date(Date.now() - 3 * 60_000) }).where(eq(tasks.id, "silent"));
    await queued("late-but-within");
    await database.db.update(tasks).set({ runNextCheckBy: new Date(Date.now() - 30_000) }).where(eq(tasks.id, "late-but-within"));
    await queued("checking");
    await recordRunCheckIn(database.db, "checking", 30_000);
    await queued("between-steps");
    await recordRunCheckIn(database.db, "between-steps", 30_000);
    await recordRunCheckIn(database.db, "between-steps", null);

    const redriven = await redriveSilentRuns(rt);
    expect(redriven.map((r) => r.taskId)).toEqual(["silent"]);
    const [row] = await database.db.select().from(tasks).where(eq(tasks.id, "silent"));
    // The new run has promised nothing yet: it is not taken for silent before its first check.
    expect(row!.runNextCheckBy).toBeNull();
    expect(row!.runGeneration).toBe(1);
    expect((await redriveSilentRuns(rt)).map((r) => r.taskId)).toEqual([]);
    const [checking] = await database.db.select().from(tasks).where(eq(tasks.id, "checking"));
    expect(checking!.runNextCheckBy!.getTime()).toBeGreaterThan(Date.now());
  });
});
