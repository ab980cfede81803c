/** How every pipeline stage opens: an ended task ends it, and what it acts on being gone (or not the task's) makes it lost. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { agentSessions, nodes, tasks, users, workspaces } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import type { Runtime } from "../runtime";
import { ENDED, LOST, openStage } from "./stage";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Runtime;
let n = 0;

/** A task working on a running node, with its workspace and agent session. */
async function working() {
  const id = ++n;
  const ids = { taskId: `t_stage_${id}`, nodeId: `n_stage_${id}`, workspaceId: `w_stage_${id}`, sessionId: `s_stage_${id}` };
  await database.db.insert(nodes).values({ id: ids.nodeId, userId: "u1", provider: "local", status: "running", endpoint: "http://127.0.0.1:9" });
  await database.db.insert(tasks).values({ id: ids.taskId, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/${ids.taskId}`, nodeId: ids.nodeId });
  await database.db.insert(workspaces).values({ id: ids.workspaceId, taskId: ids.taskId, nodeId: ids.nodeId, status: "running", branch: `agents/${ids.taskId}` });
  await database.db.update(tasks).set({ workspaceId: ids.workspaceId }).where(eq(tasks.id, ids.taskId));
  await database.db.insert(agentSessions).values({ id: ids.sessionId, workspaceId: ids.workspaceId, taskId: ids.taskId, agent: "script", status: "running" });
  return ids;
}

beforeAll(async () => {
  database = await openTestDatabase();
  const base = await testRuntime(database);
  // A provider that cannot say whether a machine runs: a node is judged by its row alone.
  rt = { ...base, provider: { ...base.provider, isRunning: undefined } };
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

describe("opening a pipeline stage", () => {
  it("hands a stage the task and what it acts on, with the node's caller", async () => {
    const t = await working();
    const stage = await openStage(rt, t.taskId, { session: t.sessionId });
    if (stage === ENDED || stage.lost) throw new Error(`expected a reached stage, got ${JSON.stringify(stage)}`);
    expect([stage.task.id, stage.session.id, stage.workspace.id, stage.node.id]).toEqual([t.taskId, t.sessionId, t.workspaceId, t.nodeId]);
    // Nothing listens at the node's endpoint, but the node is running: a retry, not a loss.
    await expect(stage.call((client) => client.sessionState(t.workspaceId, t.sessionId))).rejects.toThrow();
  });

  it("answers ENDED for a task that ended or does not exist, whatever it acts on", async () => {
    const t = await working();
    await database.db.update(tasks).set({ status: "cancelled" }).where(eq(tasks.id, t.taskId));
    expect(await openStage(rt, t.taskId)).toBe(ENDED);
    expect(await openStage(rt, t.taskId, { node: t.nodeId })).toBe(ENDED);
    expect(await openStage(rt, "t_stage_missing", { session: t.sessionId })).toBe(ENDED);
  });

  it("is lost when the node is gone, or the node or workspace is no longer the task's", async () => {
    const moved = await working();
    await database.db.update(tasks).set({ nodeId: null, workspaceId: null }).where(eq(tasks.id, moved.taskId));
    expect(await openStage(rt, moved.taskId, { node: moved.nodeId })).toMatchObject({ lost: true });
    expect(await openStage(rt, moved.taskId, { workspace: moved.workspaceId })).toMatchObject({ lost: true });

    const gone = await working();
    await database.db.update(nodes).set({ status: "stopped" }).where(eq(nodes.id, gone.nodeId));
    expect(await openStage(rt, gone.taskId, { node: gone.nodeId })).toMatchObject({ lost: true });
    expect(await openStage(rt, gone.taskId, { workspace: gone.workspaceId })).toMatchObject({ lost: true });
    // The session is still handed over: a turn that ended before its node went still counts.
    expect(await openStage(rt, gone.taskId, { session: gone.sessionId })).toMatchObject({ lost: true, session: { id: gone.sessionId } });
    expect(await openStage(rt, gone.taskId, { session: "s_stage_missing" })).toEqual({ task: expect.objectContaining({ id: gone.taskId }), lost: true });
  });

  it("calls a node that cannot be reached and is gone LOST, not an error to retry", async () => {
    const t = await working();
    const stage = await openStage(rt, t.taskId, { node: t.nodeId });
    if (stage === ENDED || stage.lost) throw new Error("expected a reached stage");
    await database.db.update(nodes).set({ status: "error" }).where(eq(nodes.id, t.nodeId));
    expect(await stage.call((client) => client.sessionState(t.workspaceId, t.sessionId))).toBe(LOST);
  });
});
