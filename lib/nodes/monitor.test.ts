import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { monitorNodes } from "./monitor";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database, { NODE_PROVISIONING_TIMEOUT: "1m" });
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

describe("the node monitor", () => {
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
