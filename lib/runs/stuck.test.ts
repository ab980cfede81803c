import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, tasks, taskSteps, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { rescueStuckTasks } from "./stuck";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database, { WORKSPACE_READY_TIMEOUT: "10m", STUCK_MARGIN: "1m", SESSION_IDLE_TIMEOUT: "15m", MAX_AUTO_NODE_LIFETIME: "4h" });
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

describe("the stuck-task safety net", () => {
  it("re-drives a task with no progress past its step's limit once, then fails it with the reason", async () => {
    await database.db.insert(tasks).values({ id: "t_stuck", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "delegated", branch: "agents/s", executionStep: "workspace_ready" });
    await database.db.insert(taskSteps).values({ taskId: "t_stuck", step: "workspace_ready", status: "running", startedAt: new Date(Date.now() - 12 * 60_000) });
    await database.db.insert(tasks).values({ id: "t_fine", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "delegated", branch: "agents/f", executionStep: "workspace_ready" });
    await database.db.insert(taskSteps).values({ taskId: "t_fine", step: "workspace_ready", status: "running", startedAt: new Date(Date.now() - 5 * 60_000) });

    await database.db.insert(tasks).values({ id: "t_idle", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/i", executionStep: "awaiting_followup" });
    await database.db.insert(taskSteps).values({ taskId: "t_idle", step: "awaiting_followup", status: "running", startedAt: new Date(Date.now() - 12 * 60_000) });

    const first = await rescueStuckTasks(rt);
    expect(first).toEqual([{ taskId: "t_stuck", outcome: "redriven", generation: 1 }]);
    expect(rt.sent).toContainEqual({ name: "task/submitted", data: { taskId: "t_stuck", userId: "u1", generation: 1, runKey: "t_stuck:1" } });

    // Still no progress after the re-drive: the second time it fails, saying why.
    const second = await rescueStuckTasks(rt);
    expect(second.map((r) => [r.taskId, r.outcome])).toEqual([["t_stuck", "failed"]]);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, "t_stuck"));
    // A task waiting 12 min for a follow-up is within SESSION_IDLE_TIMEOUT: not stuck.
    expect(second.map((r) => r.taskId)).not.toContain("t_idle");
    expect(task?.status).toBe("failed");
    expect(task?.errorMessage).toMatch(/stuck: no progress in step workspace_ready for 12 min \(its limit is 11 min\), again after it was re-driven/);
    const kinds = (await database.db.select().from(errors).where(eq(errors.taskId, "t_stuck"))).map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["stuck", "recovery", "failure"]));
    expect((await database.db.select().from(tasks).where(eq(tasks.id, "t_fine")))[0]?.status).toBe("delegated");
  });
});
