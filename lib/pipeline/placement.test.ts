/**
 * Selection probes a warm node before it gives it a task. One that does not answer is skipped, and,
 * idle, destroyed: taken out of the warm pool for the probe, it would otherwise stay running with
 * neither a task nor a warm timer, and nothing would ever reap it (found when the monitor revived
 * such a node's daemon under load).
 */
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { selectNodeStage } from "./placement";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;
let n = 0;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database);
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

/** A pid no process has any more: the daemon of a node whose machine rebooted. */
const deadPid = () => spawnSync("true").pid;

/** A warm local node whose daemon is gone. */
async function deadWarmNode() {
  const id = `n_dead_${++n}`;
  await database.db.insert(nodes).values({
    id,
    userId: "u1",
    provider: "local",
    providerServerId: `pid:${deadPid()}`,
    status: "running",
    health: "healthy",
    endpoint: "https://127.0.0.1:1",
    certificateFingerprint: Array.from({ length: 32 }, () => "AB").join(":"),
    warmSince: new Date(Date.now() - 60_000),
  });
  return id;
}

async function queuedTask() {
  const id = `t_place_${++n}`;
  await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${id}` });
  return id;
}

const nodeRow = async (id: string) => (await database.db.select().from(nodes).where(eq(nodes.id, id)))[0]!;

describe("selecting a node for a task", () => {
  it("skips a warm node that does not answer, and destroys it rather than leave it neither warm nor busy", async () => {
    const dead = await deadWarmNode();
    const taskId = await queuedTask();
    const selection = await selectNodeStage(rt, taskId, 0);
    expect(selection).toMatchObject({ provision: true });
    const placedOn = (selection as { nodeId: string }).nodeId;
    expect(placedOn).not.toBe(dead);
    expect(await nodeRow(dead)).toMatchObject({ status: "stopped", warmSince: null, errorMessage: `it did not answer its probe when task ${taskId} was placed` });
    expect((await database.db.select().from(tasks).where(eq(tasks.id, taskId)))[0]?.nodeId).toBe(placedOn);
  });
});
