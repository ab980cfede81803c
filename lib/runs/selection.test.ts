/**
 * Each safety net picks exactly the state it means (RUN_STATES in the state machine) and leaves
 * every other state alone: a task waiting for its person's follow-up, one queued for a slot, one
 * whose agent is working, and held work. Each net gets its own set of tasks in every state, as
 * they look in normal operation (a slow person: the turn ended ten minutes ago), plus its target.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSessions, nodes, tasks, taskSteps, users, workspaces } from "@/db/schema";
import type { SessionStatus } from "../contracts/statuses";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { wakeQueues } from "../nodes/pool";
import { rewakeFinishedAgents } from "./rewake";
import { reportOrphans } from "../recovery/safety-nets";
import { rescueStuckTasks } from "./stuck";
import { redriveSilentRuns, redriveStalledRuns } from "./stalled";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database);
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  await database.db.insert(nodes).values([
    { id: "n_live", userId: "u1", provider: "local", status: "running" },
    { id: "n_gone", userId: "u1", provider: "local", status: "error", updatedAt: ago(10 * 60_000) },
  ]);
}, 60_000);
afterAll(async () => database?.close());

const ago = (ms: number) => new Date(Date.now() - ms);
const ahead = (ms: number) => new Date(Date.now() + ms);
const MIN = 60_000;

type TaskRow = typeof tasks.$inferInsert;
type Plant = { task: Partial<TaskRow> & Pick<TaskRow, "status">; session?: { status: SessionStatus; endedAt?: Date | null }; step?: { step: string; startedAt: Date }; heldAt?: Date };

/** One task in a state, with its workspace, session and running step as the pipeline leaves them. */
async function plant(id: string, { task, session, step, heldAt }: Plant) {
  const nodeId = task.nodeId === undefined ? "n_live" : task.nodeId;
  const workspaceId = nodeId ? `w_${id}` : null;
  await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", branch: `agents/${id}`, ...task, nodeId, workspaceId });
  if (workspaceId) await database.db.insert(workspaces).values({ id: workspaceId, taskId: id, nodeId: nodeId!, branch: `agents/${id}`, status: heldAt ? "stopped" : "running", heldAt: heldAt ?? null });
  if (session) await database.db.insert(agentSessions).values({ id: `s_${id}`, workspaceId: workspaceId!, taskId: id, agent: "script", status: session.status, endedAt: session.endedAt ?? null });
  if (step) await database.db.insert(taskSteps).values({ taskId: id, step: step.step, status: "running", startedAt: step.startedAt });
}

/** Every state a net must leave alone, as it looks in normal operation. */
async function plantBystanders(p: string) {
  const turnEnded = ago(10 * MIN);
  await plant(`${p}_awaiting`, {
    task: { status: "in_progress", executionStep: "awaiting_followup", runSawAgentEndAt: new Date(turnEnded.getTime() + 1_000), runNextCheckBy: ahead(4 * MIN), idleUntil: ahead(5 * MIN) },
    session: { status: "stopped", endedAt: turnEnded },
    step: { step: "awaiting_followup", startedAt: turnEnded },
  });
  await plant(`${p}_queued`, { task: { status: "queued", executionStep: "node_selection", nodeId: null, runNextCheckBy: ahead(4 * MIN) }, step: { step: "node_selection", startedAt: ago(20 * MIN) } });
  await plant(`${p}_working`, { task: { status: "in_progress", executionStep: "running", runNextCheckBy: ahead(4 * MIN) }, session: { status: "running" }, step: { step: "running", startedAt: ago(10 * MIN) } });
  // Held work: its task ended an hour ago on a node since lost, its workspace kept for the person.
  await plant(`${p}_held`, {
    task: { status: "completed", executionStep: "cleanup", nodeId: "n_gone", cleanedUpAt: ago(60 * MIN), completedAt: ago(60 * MIN), runNextCheckBy: ago(60 * MIN) },
    session: { status: "stopped", endedAt: ago(61 * MIN) },
    heldAt: ago(60 * MIN),
  });
  return [`${p}_awaiting`, `${p}_queued`, `${p}_working`, `${p}_held`];
}

/** The tasks a net acted on: what it answered, and every event it sent. */
const touched = (answered: string[]) => [...new Set([...answered, ...rt.sent.map((e) => (e.data as { taskId: string }).taskId)])].sort();

describe("each safety net leaves every other state alone", () => {
  it("re-waking finished agents: only a turn whose end its run has not seen (never a task awaiting a follow-up)", async () => {
    rt.sent.length = 0;
    await plantBystanders("rw");
    await plant("rw_missed", { task: { status: "in_progress", executionStep: "running" }, session: { status: "stopped", endedAt: ago(10_000) } });
    expect(touched(await rewakeFinishedAgents(rt))).toEqual(["rw_missed"]);
  });

  it("re-driving stalled runs: only a turn ended unseen for RUN_STALL_AFTER", async () => {
    rt.sent.length = 0;
    await plantBystanders("st");
    await plant("st_missed", { task: { status: "in_progress", executionStep: "running", runDispatchedAt: ago(30 * MIN) }, session: { status: "stopped", endedAt: ago(rt.config.RUN_STALL_AFTER + MIN) } });
    expect(touched((await redriveStalledRuns(rt)).map((r) => r.taskId))).toEqual(["st_missed"]);
  });

  it("re-driving silent runs: only a run past its own promise", async () => {
    rt.sent.length = 0;
    await plantBystanders("si");
    await plant("si_silent", { task: { status: "delegated", executionStep: "workspace_ready", runNextCheckBy: ago(rt.config.RUN_STALL_AFTER + MIN) } });
    expect(touched((await redriveSilentRuns(rt)).map((r) => r.taskId))).toEqual(["si_silent"]);
  });

  it("rescuing stuck tasks: only a step past its own limit", async () => {
    rt.sent.length = 0;
    await plantBystanders("sk");
    await plant("sk_stuck", { task: { status: "delegated", executionStep: "workspace_ready" }, step: { step: "workspace_ready", startedAt: ago(rt.config.WORKSPACE_READY_TIMEOUT + rt.config.STUCK_MARGIN + MIN) } });
    expect(touched((await rescueStuckTasks(rt)).map((r) => r.taskId))).toEqual(["sk_stuck"]);
  });

  it("waking the queue for free slots: only queued tasks", async () => {
    rt.sent.length = 0;
    const bystanders = await plantBystanders("qu");
    const woken = await wakeQueues(rt);
    // The other nets' queued bystanders are queued too: every queued task, and nothing else.
    expect(woken).toContain("qu_queued");
    expect(touched(woken).filter((id) => !id.endsWith("_queued"))).toEqual([]);
    expect(woken).not.toEqual(expect.arrayContaining(bystanders.filter((id) => !id.endsWith("_queued"))));
  });

  it("reporting orphans: only unfinished work on a gone node (not held work there)", async () => {
    rt.sent.length = 0;
    await plantBystanders("or");
    await plant("or_stranded", { task: { status: "delegated", executionStep: "workspace_ready", nodeId: "n_gone" } });
    await reportOrphans(rt);
    expect(touched([])).toEqual(["or_stranded"]);
  });
});
