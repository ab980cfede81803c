import fs from "node:fs";
import { newKeyRingEntry, parseKeyRing } from "@/lib/envelope";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, inArray, sql } from "drizzle-orm";
import { agentOutput, callbackReceipts, liveEvents, nodeEnrollments, nodes, tasks, users, workspaces } from "@/db/schema";
import type { TaskStatus } from "../contracts/statuses";
import { queryRows } from "@/db/client";
import { openTestDatabase } from "@/tests/harness/test-database";
import { signingKeyPair } from "../auth/keys";
import { parseConfig } from "../config";
import { engineApi } from "../engine/api";
import { localProvider } from "../nodes/providers/local";
import type { Runtime } from "../runtime";
import { createNodeEnrollment } from "../nodes/enrollment";
import { nodeOccupancy, reapIfIdle } from "../nodes/pool";
import { sweepRetention } from "./sweep";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Runtime;
const DAY = 86_400_000;
const ago = (ms: number) => new Date(Date.now() - ms);

beforeAll(async () => {
  database = await openTestDatabase();
  const config = parseConfig({ DATA_DIR: database.dir, WORKSPACE_RETENTION: "1d", EVENT_RETENTION: "7d" });
  const secrets = parseKeyRing(newKeyRingEntry("test"));
  rt = {
    config,
    db: database.db,
    database,
    provider: localProvider({ dataDir: database.dir }),
    keys: await signingKeyPair(database.db, secrets),
    secrets,
    send: async () => ({ ids: [] }),
    engine: engineApi(config),
  };
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

async function endedTask(id: string, status: TaskStatus, endedAgo: number, nodeId: string) {
  await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status, branch: `agents/${id}`, completedAt: ago(endedAgo), cleanedUpAt: ago(endedAgo), nodeId });
  await database.db.insert(workspaces).values({ id: `w_${id}`, taskId: id, nodeId, branch: `agents/${id}`, status: "stopped" });
}

describe("the retention sweep", () => {
  it("removes what is past its retention and keeps the rest", async () => {
    await database.db.insert(nodes).values([
      { id: "n_old", userId: "u1", provider: "local", status: "stopped", updatedAt: ago(2 * DAY) },
      { id: "n_new", userId: "u1", provider: "local", status: "stopped", updatedAt: ago(60_000) },
    ]);
    for (const node of ["n_old", "n_new"]) fs.mkdirSync(path.join(database.dir, "nodes", node, "work"), { recursive: true });
    await endedTask("failed-long-ago", "failed", 2 * DAY, "n_old");
    await endedTask("cancelled-just-now", "cancelled", 60_000, "n_new");
    await database.db.insert(liveEvents).values([
      { taskId: "failed-long-ago", kind: "status", createdAt: ago(8 * DAY) },
      { taskId: "failed-long-ago", kind: "status", createdAt: ago(DAY) },
    ]);
    await database.db.insert(callbackReceipts).values([
      { messageId: "old", kind: "workspace-ready", receivedAt: ago(8 * DAY) },
      { messageId: "new", kind: "workspace-ready", receivedAt: ago(60_000) },
    ]);
    await database.db.insert(agentOutput).values([
      { sessionId: "s1", taskId: "failed-long-ago", turn: 1, offset: 0, lines: ["old"], createdAt: ago(8 * DAY) },
      { sessionId: "s1", taskId: "failed-long-ago", turn: 1, offset: 4, lines: ["new"], createdAt: ago(DAY) },
    ]);

    const report = await sweepRetention(rt);

    // A task's output is its record: kept for its life, however old (OUTPUT_RETENTION is unset).
    expect(report).toEqual({ workspaces: 1, nodeFolders: 1, liveEvents: 1, receipts: 1, outputBatches: 0, enrollments: 0, userActions: 0 });
    const purged = await database.db.select({ id: workspaces.id, purgedAt: workspaces.purgedAt }).from(workspaces);
    expect(purged.find((w) => w.id === "w_failed-long-ago")?.purgedAt).not.toBeNull();
    expect(purged.find((w) => w.id === "w_cancelled-just-now")?.purgedAt).toBeNull();
    expect(fs.existsSync(path.join(database.dir, "nodes", "n_old"))).toBe(false);
    expect(fs.existsSync(path.join(database.dir, "nodes", "n_new"))).toBe(true);
    const [row] = await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from live_events`);
    expect(row?.n).toBe(1);

    // A second sweep finds nothing more to do.
    expect(await sweepRetention(rt)).toEqual({ workspaces: 0, nodeFolders: 0, liveEvents: 0, receipts: 0, outputBatches: 0, enrollments: 0, userActions: 0 });
    expect((await database.db.select().from(nodes).where(eq(nodes.id, "n_old")))[0]?.purgedAt).not.toBeNull();
  });

  it("keeps every task's output for its life unless OUTPUT_RETENTION is set, and then removes only ended tasks' past it, from its quota too", async () => {
    await database.db.insert(nodes).values({ id: "n_out", userId: "u1", provider: "local", status: "running" });
    await endedTask("ended-40-days-ago", "completed", 40 * DAY, "n_out");
    await endedTask("ended-yesterday", "completed", DAY, "n_out");
    await database.db.insert(tasks).values({ id: "still-running", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/still-running" });
    for (const taskId of ["ended-40-days-ago", "ended-yesterday", "still-running"]) {
      await database.db.insert(agentOutput).values({ sessionId: `s_${taskId}`, taskId, turn: 1, offset: 0, lines: ["a line"], bytes: 10, createdAt: ago(50 * DAY) });
      await database.db.update(tasks).set({ outputBytes: 10 }).where(eq(tasks.id, taskId));
    }
    expect((await sweepRetention(rt)).outputBatches).toBe(0);
    const kept = await sweepRetention({ ...rt, config: { ...rt.config, OUTPUT_RETENTION: 30 * DAY } });
    expect(kept.outputBatches).toBe(1);
    const left = await database.db.select({ taskId: agentOutput.taskId }).from(agentOutput).where(inArray(agentOutput.taskId, ["ended-40-days-ago", "ended-yesterday", "still-running"]));
    expect(left.map((r) => r.taskId).sort()).toEqual(["ended-yesterday", "still-running"]);
    expect((await database.db.select({ bytes: tasks.outputBytes }).from(tasks).where(eq(tasks.id, "ended-40-days-ago")))[0]?.bytes).toBe(0);
  });

  it("keeps a workspace held for its person's decision, however old, and its node keeps a slot for it", async () => {
    await database.db.insert(nodes).values({ id: "n_held", userId: "u1", provider: "local", status: "running", updatedAt: ago(3 * DAY) });
    await endedTask("held-long-ago", "completed", 3 * DAY, "n_held");
    await database.db.update(workspaces).set({ heldAt: ago(3 * DAY) }).where(eq(workspaces.id, "w_held-long-ago"));
    expect((await sweepRetention(rt)).workspaces).toBe(0);
    expect((await database.db.select().from(workspaces).where(eq(workspaces.id, "w_held-long-ago")))[0]?.purgedAt).toBeNull();
    // The held workspace takes a slot: an idle node is not reaped from under it.
    expect(await nodeOccupancy(database.db, "n_held")).toBe(1);
    expect(await reapIfIdle(rt, "n_held", 0)).toBe(false);
  });

  it("deletes node enrollment tokens past their expiry and keeps those still good", async () => {
    await database.db.insert(nodes).values({ id: "n_enrolling", userId: "u1", provider: "hetzner", status: "creating" });
    await createNodeEnrollment(database.db, "n_enrolling", 60 * 60_000);
    await createNodeEnrollment(database.db, "n_enrolling", 60 * 60_000);
    // One of the two was minted NODE_ENROLLMENT_TTL and a minute ago (expiry is by the database's clock).
    const [first] = await database.db.select().from(nodeEnrollments).where(eq(nodeEnrollments.nodeId, "n_enrolling")).limit(1);
    await database.db.update(nodeEnrollments).set({ expiresAt: sql`now() - interval '1 minute'` }).where(eq(nodeEnrollments.tokenHash, first!.tokenHash));

    expect((await sweepRetention(rt)).enrollments).toBe(1);
    const left = await database.db.select({ tokenHash: nodeEnrollments.tokenHash }).from(nodeEnrollments).where(eq(nodeEnrollments.nodeId, "n_enrolling"));
    expect(left).toHaveLength(1);
    expect(left[0]!.tokenHash).not.toBe(first!.tokenHash);
    expect((await sweepRetention(rt)).enrollments).toBe(0);
  });
});
