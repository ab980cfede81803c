import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { retireOldNodes } from "./safety-nets";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database, { WORKSPACE_READY_TIMEOUT: "10m", STUCK_MARGIN: "1m", SESSION_IDLE_TIMEOUT: "15m", MAX_AUTO_NODE_LIFETIME: "4h" });
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

describe("retiring old nodes", () => {
  const HOUR = 3_600_000;
  const node = (id: string, ageMs: number, autoProvisioned = true) =>
    database.db.insert(nodes).values({ id, userId: "u1", provider: "local", status: "running", health: "healthy", autoProvisioned, createdAt: new Date(Date.now() - ageMs) });
  const statusOf = async (id: string) => (await database.db.select({ status: nodes.status }).from(nodes).where(eq(nodes.id, id)))[0]?.status;

  it("destroys an auto-provisioned node past MAX_AUTO_NODE_LIFETIME once it is idle, never while a task works on it", async () => {
    await node("n_old_idle", 5 * HOUR);
    await node("n_old_busy", 5 * HOUR);
    await node("n_young", 3 * HOUR);
    await node("n_machine", 50 * HOUR, false); // a person's own machine: theirs to keep
    // An agent is working on the busy node: its task holds the node's slot until its cleanup is done.
    await database.db.insert(tasks).values({ id: "t_on_old", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/o", executionStep: "running", nodeId: "n_old_busy" });

    expect(await retireOldNodes(rt)).toEqual(["n_old_idle"]);
    expect(await statusOf("n_old_idle")).toBe("stopped");
    for (const id of ["n_old_busy", "n_young", "n_machine"]) expect([id, await statusOf(id)]).toEqual([id, "running"]);
    expect((await database.db.select({ status: tasks.status }).from(tasks).where(eq(tasks.id, "t_on_old")))[0]?.status).toBe("in_progress");

    // The task ends and its workspace is cleaned up: the node is idle now, and the next pass retires it.
    await database.db.update(tasks).set({ status: "completed", completedAt: new Date(), cleanedUpAt: new Date() }).where(eq(tasks.id, "t_on_old"));
    expect(await retireOldNodes(rt)).toEqual(["n_old_busy"]);
    expect(await statusOf("n_old_busy")).toBe("stopped");
    expect(await statusOf("n_young")).toBe("running");
  });
});
