import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { agentSessions, nodes, tasks, users, workspaces } from "@/db/schema";
import { SESSION_STATUSES, type SessionStatus } from "../contracts/statuses";
import { openTestDatabase } from "@/tests/harness/test-database";
import { statusWritersOutside } from "@/tests/harness/status-writers";
import { itMovesAsTheTableSays, type LifecycleMove } from "@/tests/harness/transition-moves";
import { DEFAULT_PRICE_TABLE } from "@/lib/usage/pricing";
import {
  canSessionTransition,
  ensureSessionRow,
  INITIAL_SESSION_STATUS,
  markSessionsStopped,
  markSessionStarted,
  recordAgentCompletion,
  SESSION_TRANSITIONS,
  startNextTurn,
} from "./lifecycle";

describe("the session transition table", () => {
  it("lets a live session end, and an ended one run its next turn", () => {
    for (const from of ["starting", "running"] as const) {
      expect(canSessionTransition(from, "stopped") && canSessionTransition(from, "error")).toBe(true);
    }
    expect(SESSION_STATUSES.filter((from) => canSessionTransition(from, "running"))).toEqual(["starting", "suspended", "stopped", "error"]);
    expect(SESSION_TRANSITIONS.running).not.toContain("starting");
  });

  it("is consulted by every status write: no module but the lifecycle writes a session's status", () => {
    expect(statusWritersOutside("agentSessions", "lib/sessions/lifecycle.ts", "agent_sessions")).toEqual([]);
  });
});

describe("every move the session lifecycle makes, against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
    await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
  }, 60_000);
  afterAll(async () => database?.close());

  async function sessionIn(status: SessionStatus) {
    const id = `t${++seq}`;
    await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/${id}`, nodeId: "n1", workspaceId: `w_${id}` });
    await database.db.insert(workspaces).values({ id: `w_${id}`, taskId: id, nodeId: "n1", branch: `agents/${id}`, status: "running" });
    await database.db.insert(agentSessions).values({ id: `s_${id}`, workspaceId: `w_${id}`, taskId: id, agent: "script", status });
    return { taskId: id, workspaceId: `w_${id}`, sessionId: `s_${id}` };
  }
  const statusOf = async (sessionId: string) => (await database.db.select({ status: agentSessions.status }).from(agentSessions).where(eq(agentSessions.id, sessionId)))[0]!.status;
  const completion = (s: { workspaceId: string; sessionId: string }, outcome: "succeeded" | "failed") => ({
    messageId: `done-${s.sessionId}`,
    workspaceId: s.workspaceId,
    outcome,
    exitCode: outcome === "succeeded" ? 0 : 1,
    branch: "agents/x",
    commit: null,
    pushed: false,
    turn: 1,
  });

  const moves: LifecycleMove<SessionStatus, { taskId: string; workspaceId: string; sessionId: string }>[] = [
    { name: "the node accepting the start", to: "running", movesFrom: ["starting"], run: (s) => markSessionStarted(database.db, s.sessionId) },
    { name: "cleanup", to: "stopped", movesFrom: ["starting", "running"], run: (s) => markSessionsStopped(database.db, s.taskId, "task ended") },
    { name: "a succeeded completion", to: "stopped", movesFrom: ["starting", "running"], run: (s) => recordAgentCompletion(database.db, s.sessionId, completion(s, "succeeded"), DEFAULT_PRICE_TABLE) },
    { name: "a failed completion", to: "error", movesFrom: ["starting", "running"], run: (s) => recordAgentCompletion(database.db, s.sessionId, completion(s, "failed"), DEFAULT_PRICE_TABLE) },
    { name: "the next turn", to: "running", movesFrom: ["starting", "suspended", "stopped", "error"], run: (s) => startNextTurn(database.db, s.sessionId, 2) },
  ];

  itMovesAsTheTableSays({ statuses: SESSION_STATUSES, moves, rowIn: sessionIn, statusOf: (s) => statusOf(s.sessionId), canTransition: canSessionTransition });

  it("a new row starts in the initial status, which the table lets move", async () => {
    const id = `t${++seq}`;
    await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "delegated", branch: `agents/${id}` });
    await database.db.insert(workspaces).values({ id: `w_${id}`, taskId: id, nodeId: "n1", branch: `agents/${id}`, status: "running" });
    const row = await ensureSessionRow(database.db, { workspaceId: `w_${id}`, taskId: id, agent: "script" });
    expect(row.status).toBe(INITIAL_SESSION_STATUS);
    expect(SESSION_TRANSITIONS[INITIAL_SESSION_STATUS].length).toBeGreaterThan(0);
  });
});
