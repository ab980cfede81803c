import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "@/tests/harness/test-database";
import { errors, liveEvents, nodes, tasks, users } from "@/db/schema";
import type { NodeStatus, TaskStatus } from "../contracts/statuses";
import type { SendEvents } from "../contracts/events";
import { NODES_STREAM } from "../live/publish";
import type { NodeProvider } from "../nodes/provider";
import { DESTROYED_BY_OPERATOR, destroyNodeForOperator, NodeAlreadyStoppedError, NodeInUseError, NodeNotFoundError } from "./destroy-node";
import { parseConfig } from "../config";

describe("destroyNodeForOperator against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;
  let destroyed: string[];
  let sent: unknown[];
  const provider: NodeProvider = {
    name: "fake",
    create: async () => ({ providerServerId: "fake" }),
    destroy: async (node) => void destroyed.push(node.id),
    checkEndpoint: async () => undefined,
  };
  const send: SendEvents = async (events) => {
    sent.push(...(Array.isArray(events) ? events : [events]));
    return { ids: [] };
  };
  const deps = () => ({ db: database.db, provider, send, config: parseConfig({ MAX_WORKSPACES_PER_NODE: "3" }) });

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values([
      { id: "u1", email: "u1@example.test", name: "U1" },
      { id: "u2", email: "u2@example.test", name: "U2" },
    ]);
  }, 60_000);
  afterAll(async () => database?.close());
  beforeEach(() => {
    destroyed = [];
    sent = [];
  });

  async function node(status: NodeStatus, extra: Partial<typeof nodes.$inferInsert> = {}) {
    const id = `n_${++seq}`;
    await database.db.insert(nodes).values({ id, userId: "u1", provider: "local", providerServerId: `pid:${seq}`, status, health: "healthy", ...extra });
    return id;
  }
  async function taskOn(nodeId: string, status: TaskStatus = "in_progress", extra: Partial<typeof tasks.$inferInsert> = {}) {
    const id = `t_${++seq}`;
    await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status, branch: `agents/${id}`, nodeId, executionStep: "running", ...extra });
    return id;
  }
  const row = async (id: string) => (await database.db.select().from(nodes).where(eq(nodes.id, id)))[0]!;
  const nodePublications = async () => (await database.db.select().from(liveEvents).where(eq(liveEvents.taskId, NODES_STREAM))).length;

  it("destroys an idle warm node: stopped, its machine gone, the nodes page told", async () => {
    const id = await node("running", { warmSince: new Date() });
    const before = await nodePublications();
    expect(await destroyNodeForOperator(deps(), "u1", id)).toEqual({ nodeId: id, status: "stopped", tasks: [] });
    expect(await row(id)).toMatchObject({ status: "stopped", warmSince: null });
    expect(destroyed).toEqual([id]);
    expect(await nodePublications()).toBeGreaterThan(before);
  });

  it("a task whose cleanup is done holds no slot", async () => {
    const id = await node("running");
    await taskOn(id, "completed", { cleanedUpAt: new Date() });
    expect((await destroyNodeForOperator(deps(), "u1", id)).status).toBe("stopped");
  });

  it("refuses a node that holds tasks, naming them, and leaves it alone", async () => {
    const id = await node("running");
    const working = await taskOn(id);
    const ended = await taskOn(id, "completed");
    const refusal = await destroyNodeForOperator(deps(), "u1", id).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(NodeInUseError);
    expect((refusal as NodeInUseError).taskIds).toEqual([working, ended]);
    expect((refusal as Error).message).toContain(working);
    expect(await row(id)).toMatchObject({ status: "running" });
    expect(destroyed).toEqual([]);
    expect(sent).toEqual([]);
  });

  it("with force, declares the node lost: its working tasks are woken, the reason recorded, the machine destroyed", async () => {
    const id = await node("running");
    const working = await taskOn(id);
    const answer = await destroyNodeForOperator(deps(), "u1", id, { force: true });
    expect(answer).toMatchObject({ nodeId: id, status: "stopped", tasks: [working] });
    const after = await row(id);
    expect(after.status).toBe("stopped");
    expect(after.errorMessage).toBe(`node ${id} lost: ${DESTROYED_BY_OPERATOR}`);
    expect(destroyed).toEqual([id]);
    expect(sent).toEqual([expect.objectContaining({ name: "node/lost", data: { taskId: working, nodeId: id } })]);
    const recorded = await database.db.select().from(errors).where(eq(errors.nodeId, id));
    expect(recorded.map((e) => e.message)).toEqual([`node ${id} lost: ${DESTROYED_BY_OPERATOR}`]);
  });

  it("destroys a node still being created (nothing on it) and a lost node's leftover machine", async () => {
    const creating = await node("creating");
    expect((await destroyNodeForOperator(deps(), "u1", creating)).status).toBe("stopped");
    const lost = await node("error", { errorMessage: "node lost: no heartbeat" });
    expect((await destroyNodeForOperator(deps(), "u1", lost)).status).toBe("stopped");
    expect((await row(lost)).errorMessage).toBe("node lost: no heartbeat");
    expect(destroyed).toEqual([creating, lost]);
  });

  it("answers not found for an unknown node and for another user's", async () => {
    await expect(destroyNodeForOperator(deps(), "u1", "n_nope")).rejects.toBeInstanceOf(NodeNotFoundError);
    const theirs = await node("running");
    await expect(destroyNodeForOperator(deps(), "u2", theirs, { force: true })).rejects.toBeInstanceOf(NodeNotFoundError);
    expect((await row(theirs)).status).toBe("running");
  });

  it("refuses a node that is already stopped", async () => {
    const id = await node("stopped");
    const refusal = await destroyNodeForOperator(deps(), "u1", id, { force: true }).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(NodeAlreadyStoppedError);
    expect((refusal as Error).message).toBe(`node ${id} is already stopped`);
    expect(destroyed).toEqual([]);
  });
});
