/**
 * Placement against a real database: a node over its CPU or memory threshold receives no new work,
 * a cloud node and a local one alike (LOCAL_NODE_LOAD_LIMITS, on by default); a busy machine also
 * starts no new local node, since another daemon on it adds no room. Turned off, this machine's
 * load does not steer local placement.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { parseConfig } from "../config";
import { freeSlots, placeTask, selectionLimits } from "./selection";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let n = 0;

beforeAll(async () => {
  database = await openTestDatabase();
}, 60_000);
afterAll(async () => database?.close());

const LOCAL = { name: "local", sharedHost: true };
const HETZNER = { name: "hetzner" };

async function person() {
  const userId = `u${++n}`;
  await database.db.insert(users).values({ id: userId, email: `${userId}@example.test`, name: userId });
  return userId;
}
async function runningNode(userId: string, provider: string, load: { cpu: number; memory: number }) {
  const id = `n_sel_${++n}`;
  await database.db.insert(nodes).values({ id, userId, provider, status: "running", health: "healthy", cpuPercent: load.cpu, memoryPercent: load.memory });
  return id;
}
async function place(userId: string, provider: { name: string; sharedHost?: boolean }, env: Record<string, string> = {}) {
  const taskId = `t_sel_${++n}`;
  await database.db.insert(tasks).values({ id: taskId, userId, repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${taskId}`, executionStep: "node_selection" });
  const config = parseConfig({ DATA_DIR: database.dir, NODE_CPU_THRESHOLD: "80", NODE_MEMORY_THRESHOLD: "85", ...env });
  const limits = selectionLimits(config, provider);
  return { taskId, limits, placement: await placeTask(database.db, { taskId, userId, provider: provider.name, authMode: "local", limits }) };
}

describe("a node over its load thresholds", () => {
  it("gets no new work on a cloud: the task goes to a node under them, over CPU or over memory alike", async () => {
    const userId = await person();
    await runningNode(userId, "hetzner", { cpu: 95, memory: 10 });
    await runningNode(userId, "hetzner", { cpu: 10, memory: 90 });
    const calm = await runningNode(userId, "hetzner", { cpu: 50, memory: 50 });
    expect((await place(userId, HETZNER)).placement).toMatchObject({ kind: "assigned", nodeId: calm });
  });

  it("gets no new work when it is a local node, and the busy machine starts no other; the task waits until the load drops", async () => {
    const userId = await person();
    const busy = await runningNode(userId, "local", { cpu: 92, memory: 30 });
    const { taskId, limits, placement } = await place(userId, LOCAL);
    expect(placement).toEqual({ kind: "queued", reason: expect.stringMatching(/over its load thresholds \(NODE_CPU_THRESHOLD=80%, NODE_MEMORY_THRESHOLD=85%\)/) });
    expect(await database.db.select({ id: nodes.id }).from(nodes).where(eq(nodes.userId, userId))).toEqual([{ id: busy }]);
    // Nothing to wake the queue for while the machine is busy.
    expect(await freeSlots(database.db, userId, "local", limits)).toBe(0);

    // Its next heartbeat reports the load dropped: slots are free, and the task goes to that node.
    await database.db.update(nodes).set({ cpuPercent: 20 }).where(eq(nodes.id, busy));
    expect(await freeSlots(database.db, userId, "local", limits)).toBeGreaterThan(0);
    const again = await placeTask(database.db, { taskId, userId, provider: "local", authMode: "local", limits });
    expect(again).toMatchObject({ kind: "assigned", nodeId: busy });
  });

  it("still gets work when LOCAL_NODE_LOAD_LIMITS is off and it is a local node", async () => {
    const userId = await person();
    const busy = await runningNode(userId, "local", { cpu: 92, memory: 95 });
    expect((await place(userId, LOCAL, { LOCAL_NODE_LOAD_LIMITS: "false" })).placement).toMatchObject({ kind: "assigned", nodeId: busy });
  });

  it("still gets work at a threshold of 100, which is no limit: a saturated host reads exactly 100", async () => {
    const userId = await person();
    const saturated = await runningNode(userId, "hetzner", { cpu: 100, memory: 100 });
    expect((await place(userId, HETZNER, { NODE_CPU_THRESHOLD: "100", NODE_MEMORY_THRESHOLD: "100" })).placement).toMatchObject({ kind: "assigned", nodeId: saturated });
    const local = await person();
    const busy = await runningNode(local, "local", { cpu: 100, memory: 40 });
    expect((await place(local, LOCAL, { NODE_CPU_THRESHOLD: "100" })).placement).toMatchObject({ kind: "assigned", nodeId: busy });
    // Just under 100 still counts: a host at 99.5 % is over a 99 % threshold.
    const other = await person();
    await runningNode(other, "local", { cpu: 99.5, memory: 40 });
    expect((await place(other, LOCAL, { NODE_CPU_THRESHOLD: "99" })).placement).toMatchObject({ kind: "queued" });
  });
});
