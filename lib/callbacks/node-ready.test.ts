/**
 * The node-ready callback checks the endpoint a node reports against what its provider knows: a real
 * local node (the local provider starts a real vm-agent) reports ready, and the same callback with
 * another endpoint is refused, recorded, and changes nothing. It records how the node keeps
 * workspaces apart; in team mode a node that cannot run each as its own user is refused and destroyed.
 * A node whose daemon speaks another contract version is refused (`contractVersion`: a 409 at the
 * route, app/_server/domain-errors.test.ts) and destroyed, saying why.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { startReceiver } from "@/vm-agent/test-support";
import { CONTRACT_VERSION, type NodeReadyCallback } from "../contracts/vm-agent";
import { getNode, provisionNode } from "../nodes/lifecycle";
import { placeTask } from "../nodes/selection";
import type { Runtime } from "../runtime";
import { newKeyRingEntry } from "../envelope";
import { nodeReadyCallback } from "./handlers";
import { CallbackRefusedError } from "./errors";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Runtime & { sent: { name: string; data: unknown }[] };
let team: Runtime & { sent: { name: string; data: unknown }[] };
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  rt = await testRuntime(database);
  const teamEnv = { AUTH_MODE: "team", AUTH_SECRET: "s".repeat(32), GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "secret", SECRETS_KEYS: newKeyRingEntry("k1") };
  team = await testRuntime(database, teamEnv, rt.keys);
}, 60_000);
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await database?.close();
});

/** Starts a real local node whose callbacks go to a receiver; resolves with the ready callback it sent. */
async function startedNode(nodeId: string) {
  const receiver = await startReceiver();
  closers.push(receiver.close);
  await database.db.insert(nodes).values({ id: nodeId, userId: "u1", provider: "local", status: "creating" });
  const deps = { ...rt, controlPlaneUrl: receiver.url, callbackTtlMs: 600_000, enrollmentTtlMs: 600_000, leaseMs: 60_000 };
  expect(await provisionNode(deps, nodeId)).toBe(true);
  closers.push(async () => rt.provider.destroy((await getNode(database.db, nodeId))!));
  const ready = await receiver.next(new RegExp(`/api/nodes/${nodeId}/ready$`));
  return { node: (await getNode(database.db, nodeId))!, ready: ready.body as NodeReadyCallback };
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CallbackRefusedError);
  return error as CallbackRefusedError;
}

describe("the node-ready callback", () => {
  it("refuses an endpoint the local provider did not give the node, records it, and leaves the node as it was", async () => {
    const { node, ready } = await startedNode("n_redirect");
    const port = Number(new URL(ready.endpoint).port);
    expect(ready.endpoint).toBe(node.endpoint);
    expect(ready.endpoint).toBe(`https://127.0.0.1:${port}`);
    const elsewhere = [
      `https://127.0.0.1:${port + 1}`,
      `https://localhost:${port}`,
      `https://10.0.0.7:${port}`,
      `https://127x0x0x1:${port}`,
      `http://127.0.0.1:${port}`,
      `https://127.0.0.1:${port}/api`,
      `https://127.0.0.1:${port}?x=1`,
      `https://user@127.0.0.1:${port}`,
      `https://127.0.0.1:0${port}`,
      `https://127.0.0.1`,
    ];
    for (const endpoint of elsewhere) {
      const error = await refusal(nodeReadyCallback(rt, node.id, { ...ready, endpoint }));
      expect(error, endpoint).toMatchObject({ refusal: "endpoint" });
      expect(error.message).toContain(`endpoint is not where node ${node.id} serves`);
    }
    const after = (await getNode(database.db, node.id))!;
    expect(after).toMatchObject({ status: "creating", endpoint: node.endpoint });
    const recorded = await database.db.select().from(errors).where(eq(errors.nodeId, node.id));
    expect(recorded).toHaveLength(elsewhere.length);
    expect(recorded[0]).toMatchObject({ kind: "failure", step: "node_agent_ready", message: expect.stringContaining(`was started on port ${port}, not ${port + 1}`) });
    expect(recorded.map((e) => e.message).join("\n")).toContain(`not "https://localhost:${port}"`);

    // What the node really reported is taken, its certificate pinned.
    expect(await nodeReadyCallback(rt, node.id, ready)).toEqual({ outcome: "applied" });
    expect(await getNode(database.db, node.id)).toMatchObject({ status: "running", endpoint: ready.endpoint, certificateFingerprint: ready.certificateFingerprint });
  });

  it("pins the certificate the real node serves, and a later report of another one moves the pin, recorded with both fingerprints", async () => {
    const { node, ready } = await startedNode("n_repin");
    expect(ready.certificateFingerprint).toBe(await rt.provider.certificateFingerprint!(node));
    expect(node.certificateFingerprint).toBeNull();
    expect(await nodeReadyCallback(rt, node.id, ready)).toEqual({ outcome: "applied" });
    // The same report again (the outbox retries until it hears a 2xx) is no news.
    expect(await nodeReadyCallback(rt, node.id, ready)).toEqual({ outcome: "applied" });
    expect(await database.db.select().from(errors).where(eq(errors.nodeId, node.id))).toEqual([]);

    const renewed = Array.from({ length: 32 }, () => "0F").join(":");
    expect(await nodeReadyCallback(rt, node.id, { ...ready, certificateFingerprint: renewed })).toEqual({ outcome: "applied" });
    expect(await getNode(database.db, node.id)).toMatchObject({ status: "running", certificateFingerprint: renewed });
    const [warning] = await database.db.select().from(errors).where(eq(errors.nodeId, node.id));
    expect(warning).toMatchObject({ kind: "recovery", step: "node_agent_ready" });
    expect(warning!.message).toContain(renewed);
    expect(warning!.message).toContain(ready.certificateFingerprint);
  });

  it("refuses a loopback endpoint for a node the local provider never started", async () => {
    await database.db.insert(nodes).values({ id: "n_unknown", userId: "u1", provider: "local", status: "creating" });
    const error = await refusal(nodeReadyCallback(rt, "n_unknown", { endpoint: "https://127.0.0.1:4000", certificateFingerprint: Array.from({ length: 32 }, () => "AB").join(":"), version: "x", contractVersion: 2 }));
    expect(error).toMatchObject({ refusal: "endpoint", message: expect.stringContaining("was not started by this local provider") });
    expect(await getNode(database.db, "n_unknown")).toMatchObject({ status: "creating", endpoint: null });
  });

  it("records how the real node says it keeps workspaces apart (a daemon that does not say counts as none)", async () => {
    const { node, ready } = await startedNode("n_isolation");
    expect(await nodeReadyCallback(rt, node.id, ready)).toEqual({ outcome: "applied" });
    expect(await getNode(database.db, node.id)).toMatchObject({ status: "running", isolation: ready.isolation?.mode ?? "none" });
  });

  it("team mode: a node that runs workspaces as its daemon's user is refused, its waiting task fails saying why, and it is destroyed", async () => {
    const { node, ready } = await startedNode("n_shared");
    await database.db.insert(tasks).values({ id: "t_shared", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "delegated", branch: "agents/t", nodeId: node.id });
    const message = `node ${node.id} cannot run each workspace as its own user (the vm-agent runs as alice, not root); team mode places no work on it`;

    const answer = await nodeReadyCallback(team, node.id, { ...ready, isolation: { mode: "none", reason: "the vm-agent runs as alice, not root" } });
    expect(answer).toEqual({ outcome: "refused", reason: message });
    const after = (await getNode(database.db, node.id))!;
    expect(after).toMatchObject({ status: "stopped", isolation: "none", errorMessage: message });
    expect(team.provider.isRunning!(after)).toBe(false);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, "t_shared"));
    expect(task).toMatchObject({ status: "failed", errorMessage: message });
    expect(team.sent).toContainEqual({ name: "node/ready", data: { taskId: "t_shared", nodeId: node.id } });
    // Its report again is for a node that is gone.
    expect(await refusal(nodeReadyCallback(team, node.id, ready))).toMatchObject({ refusal: "gone" });
  });

  it("refuses a daemon on another contract version with a 409 naming both, fails the task waiting on it saying why, destroys the node and places no task on it", async () => {
    const { node, ready } = await startedNode("n_contract");
    expect(ready.contractVersion).toBe(CONTRACT_VERSION);
    await database.db.insert(tasks).values({ id: "t_contract", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "delegated", branch: "agents/c", nodeId: node.id });
    const other = CONTRACT_VERSION + 1;
    const message = `node ${node.id} speaks vm-agent contract version ${other}, this control plane version ${CONTRACT_VERSION}; it gets no work until its vm-agent is one of this control plane's`;

    const error = await refusal(nodeReadyCallback(rt, node.id, { ...ready, contractVersion: other }));
    expect(error).toMatchObject({ refusal: "contractVersion", message });
    const after = (await getNode(database.db, node.id))!;
    expect(after).toMatchObject({ status: "stopped", errorMessage: message });
    expect(rt.provider.isRunning!(after)).toBe(false);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, "t_contract"));
    expect(task).toMatchObject({ status: "failed", errorMessage: message });
    expect(rt.sent).toContainEqual({ name: "node/ready", data: { taskId: "t_contract", nodeId: node.id } });
    expect(await database.db.select().from(errors).where(eq(errors.nodeId, node.id))).toContainEqual(expect.objectContaining({ taskId: null, step: "node_agent_ready", message }));

    // A new task is not placed on it, and its report again is for a node that is gone.
    await database.db.insert(tasks).values({ id: "t_after_contract", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: "agents/d" });
    const limits = { maxWorkspacesPerNode: 3, cpuThreshold: 80, memoryThreshold: 85, maxNodesPerUser: 10 };
    const placed = await placeTask(database.db, { taskId: "t_after_contract", userId: "u1", provider: "local", authMode: "local", limits });
    expect(placed.kind === "assigned" && placed.nodeId).not.toBe(node.id);
    expect(await refusal(nodeReadyCallback(rt, node.id, { ...ready, contractVersion: other }))).toMatchObject({ refusal: "gone" });
  });
});
