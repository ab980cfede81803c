/**
 * The isolation rule: in team mode a node that does not run each workspace as its own user gets no
 * work (not a candidate, refused at ready with its tasks failed saying why, never started on), while
 * local mode records and places as before. Against PGlite, with the real selection, ready and wait.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, tasks, taskSteps, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { newKeyRingEntry } from "../envelope";
import { nodeReadiness } from "../pipeline/placement";
import { ENDED, PENDING } from "../pipeline/stage";
import type { Runtime } from "../runtime";
import { isolationVerdict, reportedIsolation, UNREPORTED_EGRESS_REASON, UNREPORTED_ISOLATION_REASON } from "./isolation";
import { getNode, markNodeReady } from "./lifecycle";
import { placeTask, type SelectionLimits } from "./selection";

const TEAM = { AUTH_MODE: "team", AUTH_SECRET: "s".repeat(32), GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "secret", SECRETS_KEYS: newKeyRingEntry("k1") };
const limits: SelectionLimits = { maxWorkspacesPerNode: 3, cpuThreshold: 80, memoryThreshold: 85, maxNodesPerUser: 10 };
const READY = { endpoint: "https://127.0.0.1:4000", certificateFingerprint: Array.from({ length: 32 }, () => "AB").join(":"), version: "test", contractVersion: 2 };
const NOT_ROOT = { mode: "none" as const, reason: "the vm-agent runs as alice, not root" };
const REFUSAL = (nodeId: string) => `node ${nodeId} cannot run each workspace as its own user (the vm-agent runs as alice, not root); team mode places no work on it`;

describe("the rule", () => {
  it("counts a report without the field as none, and keeps a none node's reason only", () => {
    const unreportedEgress = { egress: "none", egressReason: UNREPORTED_EGRESS_REASON };
    expect(reportedIsolation(undefined)).toEqual({ isolation: "none", isolationReason: UNREPORTED_ISOLATION_REASON, ...unreportedEgress });
    expect(reportedIsolation(NOT_ROOT)).toEqual({ isolation: "none", isolationReason: NOT_ROOT.reason, ...unreportedEgress });
    expect(reportedIsolation({ mode: "users", reason: "ignored" })).toEqual({ isolation: "users", isolationReason: null, ...unreportedEgress });
    expect(reportedIsolation({ mode: "users", egress: { mode: "namespaces", reason: "ignored" } })).toEqual({ isolation: "users", isolationReason: null, egress: "namespaces", egressReason: null });
    expect(reportedIsolation({ mode: "users", egress: { mode: "none", reason: "socat is missing" } })).toMatchObject({ egress: "none", egressReason: "socat is missing" });
  });

  it("refuses only in team mode, and only what said it cannot", () => {
    const none = { id: "n_1", isolation: "none", isolationReason: NOT_ROOT.reason };
    expect(isolationVerdict("team", none)).toEqual({ kind: "refused", message: REFUSAL("n_1") });
    expect(isolationVerdict("team", { ...none, isolationReason: null })).toMatchObject({ message: expect.stringContaining("(its daemon gave no reason)") });
    expect(isolationVerdict("team", { ...none, isolation: "users" })).toEqual({ kind: "ok" });
    expect(isolationVerdict("team", { ...none, isolation: null })).toEqual({ kind: "unreported" });
    for (const isolation of ["none", null, "users"]) expect(isolationVerdict("local", { ...none, isolation })).toEqual({ kind: "ok" });
  });
});

describe("against the database", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let team: Runtime;
  let local: Runtime;

  beforeAll(async () => {
    database = await openTestDatabase();
    team = await testRuntime(database, TEAM);
    local = await testRuntime(database, {}, team.keys);
  }, 60_000);
  afterAll(async () => database?.close());

  let user = 0;
  let userId: string;
  beforeEach(async () => {
    userId = `u${++user}`;
    await database.db.insert(users).values({ id: userId, email: `${userId}@example.test`, name: userId });
  });

  const addNode = (id: string, extra: Partial<typeof nodes.$inferInsert>) =>
    database.db.insert(nodes).values({ id, userId, provider: "local", status: "running", health: "healthy", ...extra });
  const addTask = (id: string, extra: Partial<typeof tasks.$inferInsert> = {}) =>
    database.db.insert(tasks).values({ id, userId, repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${id}`, ...extra });
  const place = (taskId: string, authMode: "local" | "team") => placeTask(database.db, { taskId, userId, provider: "local", authMode, limits });

  it("team mode: a running node that is not `users` (or has not said) is no candidate; a node still coming up is", async () => {
    await addNode(`${userId}_none`, { isolation: "none", isolationReason: NOT_ROOT.reason });
    await addNode(`${userId}_unsaid`, {});
    await addTask(`${userId}_t1`);
    const first = await place(`${userId}_t1`, "team");
    expect(first).toMatchObject({ kind: "assigned", created: true });
    const created = first.kind === "assigned" ? first.nodeId : "";

    // The new node is still coming up: its free slot is taken rather than creating another.
    await addTask(`${userId}_t2`);
    expect(await place(`${userId}_t2`, "team")).toMatchObject({ kind: "assigned", nodeId: created, status: "creating" });

    await addNode(`${userId}_users`, { isolation: "users" });
    await addTask(`${userId}_t3`);
    expect(await place(`${userId}_t3`, "team")).toMatchObject({ kind: "assigned", nodeId: `${userId}_users`, wasIdle: true });
  });

  it("local mode places on a `none` node as before", async () => {
    await addNode(`${userId}_none`, { isolation: "none", isolationReason: NOT_ROOT.reason });
    await addTask(`${userId}_t1`);
    expect(await place(`${userId}_t1`, "local")).toMatchObject({ kind: "assigned", nodeId: `${userId}_none`, created: false });
  });

  it("team mode: a task holding a slot on a refused node gives it up and is placed elsewhere", async () => {
    await addNode(`${userId}_none`, { isolation: "none", isolationReason: NOT_ROOT.reason });
    await addTask(`${userId}_t1`, { nodeId: `${userId}_none` });
    const placed = await place(`${userId}_t1`, "team");
    expect(placed).toMatchObject({ kind: "assigned", created: true });
    expect(placed.kind === "assigned" && placed.nodeId).not.toBe(`${userId}_none`);
  });

  it("team mode: a node that reports `none` at ready is refused, and the tasks waiting on it fail saying why", async () => {
    const nodeId = `${userId}_n`;
    await addNode(nodeId, { status: "creating", health: "unknown" });
    await addTask(`${userId}_t1`, { nodeId, status: "delegated" });
    await addTask(`${userId}_t2`, { nodeId, status: "completed", cleanedUpAt: new Date() });

    const outcome = await markNodeReady(database.db, nodeId, { ...READY, isolation: NOT_ROOT }, { kind: "report", authMode: "team" });
    expect(outcome).toEqual({ taskIds: [`${userId}_t1`], refused: REFUSAL(nodeId) });
    expect(await getNode(database.db, nodeId)).toMatchObject({ status: "error", isolation: "none", isolationReason: NOT_ROOT.reason, errorMessage: REFUSAL(nodeId) });
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, `${userId}_t1`));
    expect(task).toMatchObject({ status: "failed", errorMessage: REFUSAL(nodeId) });
    const recorded = await database.db.select().from(errors).where(eq(errors.nodeId, nodeId));
    expect(recorded.map((e) => [e.taskId, e.step, e.message])).toEqual(
      expect.arrayContaining([
        [null, "node_agent_ready", REFUSAL(nodeId)],
        [`${userId}_t1`, "node_agent_ready", REFUSAL(nodeId)],
      ]),
    );
    // The daemon's report again changes nothing: the node is not wanted.
    expect(await markNodeReady(database.db, nodeId, { ...READY, isolation: NOT_ROOT }, { kind: "report", authMode: "team" })).toBeUndefined();
  });

  it("team mode: a daemon that does not say is `none`; local mode records it and the node runs", async () => {
    await addNode(`${userId}_old`, { status: "creating" });
    expect((await markNodeReady(database.db, `${userId}_old`, READY, { kind: "report", authMode: "team" }))?.refused).toContain(UNREPORTED_ISOLATION_REASON);

    await addNode(`${userId}_laptop`, { status: "creating" });
    expect(await markNodeReady(database.db, `${userId}_laptop`, { ...READY, isolation: NOT_ROOT }, { kind: "report", authMode: "local" })).toEqual({ taskIds: [] });
    expect(await getNode(database.db, `${userId}_laptop`)).toMatchObject({ status: "running", isolation: "none", isolationReason: NOT_ROOT.reason, errorMessage: null });
  });

  it("a node the monitor adopts keeps what its daemon has not said; its report then records it", async () => {
    const nodeId = `${userId}_adopted`;
    await addNode(nodeId, { status: "creating" });
    expect(await markNodeReady(database.db, nodeId, READY, { kind: "adopted" })).toEqual({ taskIds: [] });
    expect(await getNode(database.db, nodeId)).toMatchObject({ status: "running", isolation: null });
    await markNodeReady(database.db, nodeId, { ...READY, isolation: { mode: "users" } }, { kind: "report", authMode: "team" });
    expect(await getNode(database.db, nodeId)).toMatchObject({ status: "running", isolation: "users", isolationReason: null });
  });

  it("team mode: the wait for a node goes on only once it said `users`, and fails a task on a refused one", async () => {
    const nodeId = `${userId}_n`;
    await addNode(nodeId, {});
    await addTask(`${userId}_t1`, { nodeId, status: "delegated" });
    expect(await nodeReadiness(team, `${userId}_t1`, nodeId, 0)).toBe(PENDING);
    const [step] = await database.db.select().from(taskSteps).where(eq(taskSteps.taskId, `${userId}_t1`));
    expect(step).toMatchObject({ step: "node_agent_ready", status: "running", detail: expect.stringContaining("has not said yet whether it runs each workspace as its own user") });
    // Local mode does not wait for it.
    expect(await nodeReadiness(local, `${userId}_t1`, nodeId, 0)).toBe("ready");

    await database.db.update(nodes).set({ isolation: "users" }).where(eq(nodes.id, nodeId));
    await addTask(`${userId}_t2`, { nodeId, status: "delegated" });
    expect(await nodeReadiness(team, `${userId}_t2`, nodeId, 0)).toBe("ready");

    await database.db.update(nodes).set({ isolation: "none", isolationReason: NOT_ROOT.reason }).where(eq(nodes.id, nodeId));
    await addTask(`${userId}_t3`, { nodeId, status: "delegated" });
    expect(await nodeReadiness(team, `${userId}_t3`, nodeId, 0)).toBe(ENDED);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, `${userId}_t3`));
    expect(task).toMatchObject({ status: "failed", errorMessage: REFUSAL(nodeId) });
  });
});
