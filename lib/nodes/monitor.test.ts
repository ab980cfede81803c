import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { monitorNodes } from "./monitor";
import type { NodeProvider } from "./provider";

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

  it("stops a daemon it restarted for a node that was destroyed while it started, and keeps the node stopped", async () => {
    const deadPid = spawnSync("true").pid;
    await database.db.insert(nodes).values({ id: "n_revived", userId: "u1", provider: "local", status: "running", health: "healthy", providerServerId: `pid:${deadPid}`, lastHeartbeatAt: new Date() });
    // It holds a slot (a task being placed there), so the monitor restarts its daemon rather than destroy it.
    await database.db.insert(tasks).values({ id: "t_probing", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: "agents/p", nodeId: "n_revived" });
    // The race, made certain: while the daemon starts, the task leaves the node and the node is destroyed.
    const destroyed: (string | null)[] = [];
    const provider: NodeProvider = {
      ...rt.provider,
      async create() {
        await database.db.update(tasks).set({ nodeId: null }).where(eq(tasks.id, "t_probing"));
        await database.db.update(nodes).set({ status: "stopped" }).where(eq(nodes.id, "n_revived"));
        return { providerServerId: "pid:4242424", endpoint: "https://127.0.0.1:1" };
      },
      async destroy(node) {
        destroyed.push(node.providerServerId);
      },
    };
    await monitorNodes({ ...rt, provider });
    expect(destroyed).toEqual(["pid:4242424"]);
    const [node] = await database.db.select().from(nodes).where(eq(nodes.id, "n_revived"));
    expect(node).toMatchObject({ status: "stopped", providerServerId: `pid:${deadPid}` });
  });
});
