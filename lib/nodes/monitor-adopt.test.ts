/**
 * A node whose ready callback was lost (the app was down longer than the daemon retries it) is not
 * left `creating` until NODE_PROVISIONING_TIMEOUT: the monitor finds that it answers, marks it ready
 * and wakes the task waiting on it, pinned to the certificate its provider reads for it. A real local
 * node whose callbacks go nowhere stands for the loss. Its heartbeats go nowhere too: past
 * HEARTBEAT_STALE_AFTER it shows `stale` (it answers, but its load is unknown) and gets no new work.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, tasks, users } from "@/db/schema";
import { CONTRACT_VERSION } from "@/lib/contracts/vm-agent";
import { freePort } from "@/lib/net";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { recordHeartbeat } from "./health";
import { getNode, provisionNode } from "./lifecycle";
import { monitorNodes } from "./monitor";
import { placeTask, selectionLimits } from "./selection";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  rt = await testRuntime(database, { NODE_READY_PROBE_AFTER: "1s", HEARTBEAT_STALE_AFTER: "180s", LOCAL_NODE_LOAD_LIMITS: "false" });
}, 60_000);
afterAll(async () => {
  const node = await getNode(database.db, "n_lostready");
  if (node) await rt.provider.destroy(node);
  await database?.close();
});

describe("a node whose ready callback was lost", () => {
  it("is marked ready once it answers, and the task waiting on it is woken", async () => {
    await database.db.insert(nodes).values({ id: "n_lostready", userId: "u1", provider: "local", status: "creating" });
    await database.db.insert(tasks).values({ id: "t1", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: "agents/t1", nodeId: "n_lostready" });
    // Nothing listens where its callbacks go: the ready callback never arrives.
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    expect(await provisionNode({ ...rt, controlPlaneUrl: nowhere, callbackTtlMs: 600_000, enrollmentTtlMs: 600_000, leaseMs: 60_000 }, "n_lostready")).toBe(true);

    // Before NODE_READY_PROBE_AFTER nothing is probed; after it, the node is adopted as soon as it answers.
    await monitorNodes(rt);
    expect((await getNode(database.db, "n_lostready"))!.status).toBe("creating");
    await expect
      .poll(async () => {
        await monitorNodes(rt);
        return (await getNode(database.db, "n_lostready"))!.status;
      }, { timeout: 30_000, interval: 500 })
      .toBe("running");
    expect((await getNode(database.db, "n_lostready"))!.health).toBe("healthy");
    // Pinned to the certificate its daemon serves, which the local provider reads on this machine.
    const adopted = (await getNode(database.db, "n_lostready"))!;
    expect(adopted.certificateFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(adopted.certificateFingerprint).toBe(await rt.provider.certificateFingerprint!(adopted));
    // What only its report says (how it keeps workspaces apart) stays unknown until the report comes.
    expect((await getNode(database.db, "n_lostready"))!.isolation).toBeNull();
    expect(rt.sent).toContainEqual({ name: "node/ready", data: { taskId: "t1", nodeId: "n_lostready" } });
    const [recovery] = await database.db.select().from(errors).where(eq(errors.nodeId, "n_lostready"));
    expect(recovery).toMatchObject({ kind: "recovery", message: expect.stringMatching(/ready callback never arrived; marked ready/) });
  }, 60_000);
});

describe("a node whose heartbeats stopped", () => {
  it("shows stale past HEARTBEAT_STALE_AFTER though it answers, gets no new work, and is healthy at its next heartbeat", async () => {
    const node = (await getNode(database.db, "n_lostready"))!;
    expect(node.status).toBe("running"); // adopted above; none of its heartbeats has arrived
    const lastContact = (node.lastHeartbeatAt ?? node.updatedAt).getTime();
    await monitorNodes(rt, lastContact + rt.config.HEARTBEAT_STALE_AFTER - 1_000);
    expect((await getNode(database.db, "n_lostready"))!.health).toBe("healthy");

    await monitorNodes(rt, lastContact + rt.config.HEARTBEAT_STALE_AFTER + 1_000);
    const stale = (await getNode(database.db, "n_lostready"))!;
    expect(stale.health).toBe("stale");
    expect(stale.status).toBe("running"); // it answered the probe: not lost
    // Placement passes it by: the new task gets a node of its own.
    await database.db.insert(tasks).values({ id: "t2", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: "agents/t2" });
    const placed = await placeTask(database.db, { taskId: "t2", userId: "u1", provider: "local", authMode: "local", limits: selectionLimits(rt.config, rt.provider) });
    expect(placed).toMatchObject({ kind: "assigned", created: true });
    expect(placed.kind === "assigned" && placed.nodeId).not.toBe("n_lostready");

    expect(await recordHeartbeat(database.db, "n_lostready", { cpuPercent: 5, memoryPercent: 5, diskPercent: 5, workspaces: 0, sessions: [], version: "test", contractVersion: CONTRACT_VERSION })).toBe(true);
    expect((await getNode(database.db, "n_lostready"))!.health).toBe("healthy");
  }, 30_000);
});
