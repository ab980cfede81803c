import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, tasks, users, workspaces } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { monitorNodes } from "../nodes/monitor";
import { retryCleanups } from "../recovery/safety-nets";
import { cleanupTask, completeTaskStage } from "./finish";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database, { NODE_PROVISIONING_TIMEOUT: "1m" });
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

describe("the end of a run", () => {
  it("keeps a finished task completed when its cleanup fails, records why, and the safety net finishes it later", async () => {
    // A node that is running by the database but answers nothing (port 9 on loopback refuses).
    await database.db.insert(nodes).values({ id: "n_dark", userId: "u1", provider: "local", status: "running", endpoint: "https://127.0.0.1:9", certificateFingerprint: Array.from({ length: 32 }, () => "AB").join(":") });
    await database.db.insert(tasks).values({ id: "t_done", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/t", nodeId: "n_dark", workspaceId: "w_t_done" });
    await database.db.insert(workspaces).values({ id: "w_t_done", taskId: "t_done", nodeId: "n_dark", branch: "agents/t", status: "running" });

    await completeTaskStage(rt, "t_done");
    const first = await cleanupTask(rt, "t_done");

    expect(first.outcome).toBe("failed");
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, "t_done"));
    expect(task).toMatchObject({ status: "completed", cleanedUpAt: null });
    const recorded = await database.db.select().from(errors).where(eq(errors.taskId, "t_done"));
    expect(recorded.map((e) => e.kind)).toEqual(["cleanup"]);
    // A second cleanup at once is refused by the lease: one cleanup of a task at a time.
    expect((await cleanupTask(rt, "t_done")).outcome).toBe("skipped");

    // The node is gone meanwhile; once the lease ran out the safety net cleans up for good.
    await database.db.update(nodes).set({ status: "stopped" }).where(eq(nodes.id, "n_dark"));
    await database.db.update(tasks).set({ cleanupLeaseUntil: new Date(Date.now() - 1), updatedAt: new Date(Date.now() - 60_000) }).where(eq(tasks.id, "t_done"));
    const retried = await retryCleanups(rt);
    expect(retried.map((r) => [r.taskId, r.outcome])).toEqual([["t_done", "cleaned"]]);
    const [after] = await database.db.select().from(tasks).where(eq(tasks.id, "t_done"));
    expect(after?.status).toBe("completed");
    expect(after?.cleanedUpAt).not.toBeNull();
  });

  it("destroys a node stuck creating past NODE_PROVISIONING_TIMEOUT, so it no longer counts against the quota", async () => {
    await database.db.insert(nodes).values({ id: "n_stuck", userId: "u1", provider: "local", status: "creating", createdAt: new Date(Date.now() - 120_000) });
    await database.db.insert(tasks).values({ id: "t_waits", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: "agents/w", nodeId: "n_stuck" });
    await monitorNodes(rt);
    const [node] = await database.db.select().from(nodes).where(eq(nodes.id, "n_stuck"));
    expect(node?.status).toBe("stopped");
    expect(node?.errorMessage).toMatch(/did not report ready within NODE_PROVISIONING_TIMEOUT/);
    // Its task's run is woken to go on elsewhere.
    expect(rt.sent).toContainEqual({ name: "node/lost", data: { taskId: "t_waits", nodeId: "n_stuck" } });
  });
});
