import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "@/tests/harness/test-database";
import { nodes, tasks, users } from "@/db/schema";
import { NodeHealth, NodeList, NodeStatus } from "../contracts/api";
import { nodeOccupancy } from "../nodes/pool";
import { NODE_HEALTH, NODE_STATUSES } from "../contracts/statuses";
import { listNodes, STOPPED_NODE_SHOWN_FOR_MS } from "./nodes-view";

const HOUR = 60 * 60 * 1000;
const ago = (ms: number) => new Date(Date.now() - ms);

describe("the contract's node sets", () => {
  it("are the sets of lib/nodes/statuses.ts", () => {
    expect(NodeStatus.options).toEqual([...NODE_STATUSES]);
    expect(NodeHealth.options).toEqual([...NODE_HEALTH]);
  });
});

describe("listNodes against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    database = await openTestDatabase();
    const db = database.db;
    await db.insert(users).values([
      { id: "u1", email: "u1@example.test", name: "U1" },
      { id: "u2", email: "u2@example.test", name: "U2" },
    ]);
    await db.insert(nodes).values([
      { id: "n_old", userId: "u1", provider: "local", status: "running", health: "healthy", createdAt: ago(5 * HOUR), warmSince: ago(HOUR), cpuPercent: 12.5, memoryPercent: 40, diskPercent: 70, lastHeartbeatAt: ago(5_000), isolation: "users" },
      { id: "n_busy", userId: "u1", provider: "local", status: "running", health: "stale", createdAt: ago(2 * HOUR) },
      { id: "n_lost", userId: "u1", provider: "hetzner", status: "error", health: "unhealthy", createdAt: ago(HOUR), errorMessage: "node n_lost lost: no heartbeat", autoProvisioned: false, isolation: "none", isolationReason: "the vm-agent runs as alice, not root" },
      { id: "n_stopped_recent", userId: "u1", provider: "local", status: "stopped", createdAt: ago(30 * HOUR), updatedAt: ago(HOUR) },
      { id: "n_stopped_old", userId: "u1", provider: "local", status: "stopped", createdAt: ago(50 * HOUR), updatedAt: ago(STOPPED_NODE_SHOWN_FOR_MS + HOUR) },
      { id: "n_other", userId: "u2", provider: "local", status: "running", createdAt: ago(10 * 60_000) },
    ]);
    const task = (id: string, extra: Partial<typeof tasks.$inferInsert>): typeof tasks.$inferInsert => ({
      id, userId: "u1", repository: "/tmp/r", prompt: `Do ${id}\nmore detail`, agent: "script", status: "in_progress", branch: `agents/${id}`, ...extra,
    });
    await db.insert(tasks).values([
      task("t1", { nodeId: "n_busy", createdAt: ago(30 * 60_000) }),
      task("t2", { nodeId: "n_busy", status: "completed", createdAt: ago(20 * 60_000) }),
      // Cleaned up: its slot is free again.
      task("t3", { nodeId: "n_busy", status: "completed", cleanedUpAt: ago(60_000) }),
      task("t4", { nodeId: "n_old", status: "failed", cleanedUpAt: ago(HOUR) }),
    ]);
  }, 60_000);
  afterAll(async () => database?.close());

  it("lists the user's nodes newest first, leaving out nodes stopped more than a day ago", async () => {
    const list = await listNodes(database.db, "u1", { capacity: 3 });
    expect(list.map((n) => n.id)).toEqual(["n_lost", "n_busy", "n_old", "n_stopped_recent"]);
    expect(NodeList.parse({ nodes: list }).nodes).toHaveLength(4);
  });

  it("includes old stopped nodes when asked", async () => {
    const list = await listNodes(database.db, "u1", { capacity: 3, includeOldStopped: true });
    expect(list.map((n) => n.id)).toContain("n_stopped_old");
  });

  it("never shows another user's nodes", async () => {
    const list = await listNodes(database.db, "u2", { capacity: 3, includeOldStopped: true });
    expect(list.map((n) => n.id)).toEqual(["n_other"]);
  });

  it("counts a slot per task placed on the node whose cleanup is not done, as placement does", async () => {
    const list = await listNodes(database.db, "u1", { capacity: 3 });
    const busy = list.find((n) => n.id === "n_busy")!;
    expect(busy.workspaces).toEqual({
      count: 2,
      capacity: 3,
      tasks: [
        { id: "t1", title: "Do t1", status: "in_progress" },
        { id: "t2", title: "Do t2", status: "completed" },
      ],
    });
    for (const node of list) expect(node.workspaces.count).toBe(await nodeOccupancy(database.db, node.id));
  });

  it("carries load, health, heartbeat, warm pool and error as the row has them", async () => {
    const list = await listNodes(database.db, "u1", { capacity: 3 });
    const warm = list.find((n) => n.id === "n_old")!;
    expect(warm).toMatchObject({ status: "running", health: "healthy", cpuPercent: 12.5, memoryPercent: 40, diskPercent: 70, autoProvisioned: true, errorMessage: null });
    expect(Date.parse(warm.warmSince!)).toBeLessThan(Date.now() - HOUR + 60_000);
    expect(Date.parse(warm.lastHeartbeatAt!)).toBeGreaterThan(Date.now() - 60_000);
    const lost = list.find((n) => n.id === "n_lost")!;
    expect(lost).toMatchObject({ status: "error", health: "unhealthy", provider: "hetzner", autoProvisioned: false, errorMessage: "node n_lost lost: no heartbeat", cpuPercent: null, lastHeartbeatAt: null, warmSince: null });
  });

  it("carries how each node keeps workspaces apart, through the contract's schema", async () => {
    const list = await listNodes(database.db, "u1", { capacity: 3 });
    const byId = new Map(NodeList.parse({ nodes: list }).nodes.map((n) => [n.id, n.isolation]));
    expect(byId.get("n_old")).toEqual({ mode: "users", reason: null });
    expect(byId.get("n_lost")).toEqual({ mode: "none", reason: "the vm-agent runs as alice, not root" });
    expect(byId.get("n_busy")).toEqual({ mode: null, reason: null });
  });
});
