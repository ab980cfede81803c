/**
 * The node pool under concurrency, against a real PostgreSQL through Neon's driver (concurrent
 * transactions on separate connections): placements racing for slots, the quota and warm nodes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { nodes, tasks, users } from "@/db/schema";
import { queryRows, type Database } from "@/db/client";
import { placeTask, type SelectionLimits } from "@/lib/nodes/selection";
import { reapIfIdle, settleNode, wakeQueued } from "@/lib/nodes/pool";
import { parseConfig } from "@/lib/config";
import type { SendEvents } from "@/lib/contracts/events";
import type { NodeProvider } from "@/lib/nodes/provider";
import { openPostgresDatabase } from "../harness/postgres-database";

let database: Database;
let user = 0;
let userId: string;
const limits: SelectionLimits = { maxWorkspacesPerNode: 3, maxNodesPerUser: 10, cpuThreshold: 80, memoryThreshold: 85 };

beforeAll(async () => {
  database = await openPostgresDatabase();
});
afterAll(async () => database?.close());
beforeEach(async () => {
  userId = `pool-user-${++user}`;
  await database.db.insert(users).values({ id: userId, email: `${userId}@example.test`, name: userId });
});

async function newTasks(count: number) {
  const ids = Array.from({ length: count }, (_, i) => `${userId}-task-${i}`);
  await database.db.insert(tasks).values(ids.map((id): typeof tasks.$inferInsert => ({ id, userId, repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${id}` })));
  return ids;
}

const place = (taskId: string, extra: Partial<SelectionLimits> = {}) =>
  placeTask(database.db, { taskId, userId, provider: "local", authMode: "local", limits: { ...limits, ...extra } });

async function occupancyByNode() {
  return queryRows<{ node_id: string; n: number }>(
    database.db,
    sql`select node_id, count(*)::int as n from tasks where user_id = ${userId} and node_id is not null and cleaned_up_at is null group by node_id`,
  );
}

describe("placement", () => {
  it("30 tasks at once never put more than MAX_WORKSPACES_PER_NODE on a node and create only the nodes they need", async () => {
    const ids = await newTasks(30);
    const placements = await Promise.all(ids.map((id) => place(id)));
    const assigned = placements.filter((p) => p.kind === "assigned");
    const created = assigned.filter((p) => p.kind === "assigned" && p.created);
    // 10 nodes of 3 slots hold exactly 30 tasks: every task is placed, on exactly 10 new nodes.
    expect(assigned).toHaveLength(30);
    expect(created).toHaveLength(10);
    const occupancy = await occupancyByNode();
    expect(occupancy).toHaveLength(10);
    for (const row of occupancy) expect(row.n).toBeLessThanOrEqual(3);
  });

  it("a burst takes free slots on nodes still being created, and waits in the queue when the quota is reached", async () => {
    const ids = await newTasks(12);
    const placements = await Promise.all(ids.map((id) => place(id, { maxNodesPerUser: 2 })));
    expect(placements.filter((p) => p.kind === "assigned" && p.created)).toHaveLength(2);
    expect(placements.filter((p) => p.kind === "assigned")).toHaveLength(6);
    const queued = placements.filter((p) => p.kind === "queued");
    expect(queued).toHaveLength(6);
    expect(queued[0]).toMatchObject({ reason: expect.stringContaining("MAX_NODES_PER_USER=2") });
    const [row] = await queryRows<{ live: number }>(database.db, sql`select count(*)::int as live from nodes where user_id = ${userId}`);
    expect(row?.live).toBe(2);
  });

  it("a repeated selection finds the slot the task already holds instead of claiming a second node", async () => {
    const [taskId] = await newTasks(1);
    const first = await place(taskId!);
    const again = await Promise.all([place(taskId!), place(taskId!), place(taskId!)]);
    for (const p of again) expect(p).toMatchObject({ kind: "assigned", nodeId: first.kind === "assigned" ? first.nodeId : "?" });
    const [row] = await queryRows<{ count: number }>(database.db, sql`select count(*)::int as count from nodes where user_id = ${userId}`);
    expect(row?.count).toBe(1);
  });

  it("prefers a warm node, and the reaper never destroys a node a task just claimed", async () => {
    const [first, second] = await newTasks(2);
    const placed = await place(first!);
    if (placed.kind !== "assigned") throw new Error("not placed");
    await database.db.update(nodes).set({ status: "running", health: "healthy" }).where(eq(nodes.id, placed.nodeId));
    await database.db.update(tasks).set({ status: "completed", cleanedUpAt: new Date() }).where(eq(tasks.id, first!));
    const destroyed: string[] = [];
    const provider: NodeProvider = { name: "local", create: async () => ({ providerServerId: "x" }), destroy: async (n) => void destroyed.push(n.id), checkEndpoint: async () => undefined };
    const send = async () => ({ ids: [] });
    const config = parseConfig({ MAX_WORKSPACES_PER_NODE: "3" });
    expect(await settleNode({ db: database.db, provider, send, config }, placed.nodeId, 60_000)).toBe("warm");
    // The reaper and a new task race for the warm node: whichever goes first, the node is never
    // destroyed with a task on it.
    const [reaped, claimed] = await Promise.all([reapIfIdle({ db: database.db, provider, send, config }, placed.nodeId, 0), place(second!)]);
    expect(claimed.kind).toBe("assigned");
    if (claimed.kind !== "assigned") return;
    if (reaped) {
      expect(claimed.nodeId).not.toBe(placed.nodeId);
      expect(destroyed).toEqual([placed.nodeId]);
    } else {
      expect(claimed).toMatchObject({ nodeId: placed.nodeId, wasIdle: true });
      expect(destroyed).toEqual([]);
    }
  });

  it("freed slots wake as many queued tasks as placement would take, each once, oldest first; a wake not taken is sent again, after tasks never woken", async () => {
    const ids = await newTasks(12);
    const placements: Awaited<ReturnType<typeof place>>[] = [];
    for (const id of ids) placements.push(await place(id, { maxNodesPerUser: 2 }));
    const queued = ids.filter((_, i) => placements[i]!.kind === "queued");
    expect(queued).toHaveLength(6);
    // Queued in submission order, as the run leaves them: waiting at node_selection.
    for (const [i, id] of queued.entries()) {
      await database.db.update(tasks).set({ executionStep: "node_selection", createdAt: new Date(Date.now() - 60_000 + i * 1000) }).where(eq(tasks.id, id));
    }
    await database.db.update(nodes).set({ status: "running", health: "healthy" }).where(eq(nodes.userId, userId));
    const sent: string[] = [];
    const deps = {
      db: database.db,
      provider: { name: "local" },
      send: (async (events) => (sent.push(...[events].flat().map((e) => e.data.taskId)), { ids: [] })) satisfies SendEvents,
      config: parseConfig({ MAX_WORKSPACES_PER_NODE: "3", MAX_NODES_PER_USER: "2", QUEUE_WAKE_RETRY: "15s" }),
    };
    expect(await wakeQueued(deps, userId)).toEqual([]); // every slot is taken

    // Two tasks finish on the same node: two slots. Five wakers at once (cleanups, the supervisor) wake two tasks, the oldest, once each.
    const finished = ids.filter((_, i) => placements[i]!.kind === "assigned").slice(0, 2);
    await database.db.update(tasks).set({ status: "completed", cleanedUpAt: new Date() }).where(sql`${tasks.id} in (${sql.join(finished.map((id) => sql`${id}`), sql`, `)})`);
    await Promise.all(Array.from({ length: 5 }, () => wakeQueued(deps, userId)));
    expect(sent.sort()).toEqual(queued.slice(0, 2).sort());
    // Woken and not yet looked: not woken again.
    expect(await wakeQueued(deps, userId)).toEqual([]);

    // The first looks and takes a slot; the second's wake was lost. Past QUEUE_WAKE_RETRY the free
    // slot wakes the next task that was never woken, before the one that did not move.
    expect(await place(queued[0]!, { maxNodesPerUser: 2 })).toMatchObject({ kind: "assigned" });
    await database.db.update(tasks).set({ queueWokenAt: new Date(Date.now() - 20_000) }).where(eq(tasks.id, queued[1]!));
    expect(await wakeQueued(deps, userId)).toEqual([queued[2]]);
    // The next one that looks and finds no slot is back in line, unmarked.
    await database.db.update(tasks).set({ status: "completed", cleanedUpAt: null, nodeId: null }).where(eq(tasks.id, finished[0]!));
    expect(await place(queued[2]!, { maxNodesPerUser: 2 })).toMatchObject({ kind: "assigned" });
    const [stale] = await database.db.select({ queueWokenAt: tasks.queueWokenAt }).from(tasks).where(eq(tasks.id, queued[3]!));
    expect(stale!.queueWokenAt).toBeNull();
    expect(await place(queued[3]!, { maxNodesPerUser: 2 })).toMatchObject({ kind: "queued" });
  });
});
