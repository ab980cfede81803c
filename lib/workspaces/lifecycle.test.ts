import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { nodes, tasks, users, workspaces } from "@/db/schema";
import { WORKSPACE_STATUSES, type WorkspaceStatus } from "../contracts/statuses";
import { openTestDatabase } from "@/tests/harness/test-database";
import { statusWritersOutside } from "@/tests/harness/status-writers";
import { itMovesAsTheTableSays, type LifecycleMove } from "@/tests/harness/transition-moves";
import {
  canWorkspaceTransition,
  ensureWorkspaceRow,
  INITIAL_WORKSPACE_STATUS,
  markProvisioningFailed,
  markWorkspaceReady,
  markWorkspacesLost,
  markWorkspaceStopped,
  WORKSPACE_TRANSITIONS,
} from "./lifecycle";

describe("the workspace transition table", () => {
  it("lets an ended workspace (stopped, error) become nothing, and every other one end", () => {
    expect(WORKSPACE_TRANSITIONS.stopped).toEqual([]);
    expect(WORKSPACE_TRANSITIONS.error).toEqual([]);
    for (const from of WORKSPACE_STATUSES.filter((s) => s !== "stopped" && s !== "error")) {
      expect(canWorkspaceTransition(from, "stopped") && canWorkspaceTransition(from, "error")).toBe(true);
    }
    expect(WORKSPACE_STATUSES.filter((from) => canWorkspaceTransition(from, "running"))).toEqual(["pending", "creating", "recovery"]);
  });

  it("is consulted by every status write: no module but the lifecycle writes a workspace's status", () => {
    expect(statusWritersOutside("workspaces", "lib/workspaces/lifecycle.ts")).toEqual([]);
  });
});

describe("every move the workspace lifecycle makes, against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
    await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
  }, 60_000);
  afterAll(async () => database?.close());

  async function workspaceIn(status: WorkspaceStatus) {
    const id = `t${++seq}`;
    await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "delegated", branch: `agents/${id}`, nodeId: "n1", workspaceId: `w_${id}` });
    await database.db.insert(workspaces).values({ id: `w_${id}`, taskId: id, nodeId: "n1", branch: `agents/${id}`, status });
    return { taskId: id, workspaceId: `w_${id}` };
  }
  const statusOf = async (workspaceId: string) => (await database.db.select({ status: workspaces.status }).from(workspaces).where(eq(workspaces.id, workspaceId)))[0]!.status;

  const moves: LifecycleMove<WorkspaceStatus, { taskId: string; workspaceId: string }>[] = [
    {
      name: "the ready report",
      to: "running",
      movesFrom: ["pending", "creating", "recovery"],
      run: (w) => markWorkspaceReady(database.db, w.workspaceId, { messageId: `ready-${w.workspaceId}`, branch: "agents/x", baseCommit: "a".repeat(40), setupScript: "absent" }),
    },
    {
      name: "the provisioning-failed report",
      to: "error",
      movesFrom: ["pending", "creating", "recovery"],
      run: (w) => markProvisioningFailed(database.db, w.workspaceId, { messageId: `failed-${w.workspaceId}`, stage: "clone", error: "no such repository" }),
    },
    { name: "stopping after the task", to: "stopped", movesFrom: ["pending", "creating", "running", "recovery", "stopping"], run: (w) => markWorkspaceStopped(database.db, w.workspaceId) },
    { name: "losing its node", to: "error", movesFrom: ["pending", "creating", "running", "recovery", "stopping"], run: (w) => markWorkspacesLost(database.db, w.taskId, "n1", "node n1 lost") },
  ];

  itMovesAsTheTableSays({ statuses: WORKSPACE_STATUSES, moves, rowIn: workspaceIn, statusOf: (w) => statusOf(w.workspaceId), canTransition: canWorkspaceTransition });

  it("a new row starts in the initial status, which the table lets move", async () => {
    const id = `t${++seq}`;
    await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${id}` });
    const row = await ensureWorkspaceRow(database.db, { taskId: id, nodeId: "n1", branch: `agents/${id}` });
    expect(row.status).toBe(INITIAL_WORKSPACE_STATUS);
    expect(WORKSPACE_TRANSITIONS[INITIAL_WORKSPACE_STATUS].length).toBeGreaterThan(0);
  });
});
