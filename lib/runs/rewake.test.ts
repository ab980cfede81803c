import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentSessions, tasks, users, workspaces, nodes } from "@/db/schema";
import type { SessionStatus } from "../contracts/statuses";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { rewakeFinishedAgents } from "./rewake";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Awaited<ReturnType<typeof testRuntime>>;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database);
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
}, 60_000);
afterAll(async () => database?.close());

async function taskWithSession(id: string, sessionStatus: SessionStatus, endedAgoMs: number | null) {
  await database.db.insert(tasks).values({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", executionStep: "running", branch: `agents/${id}`, nodeId: "n1", workspaceId: `w_${id}` });
  await database.db.insert(workspaces).values({ id: `w_${id}`, taskId: id, nodeId: "n1", branch: `agents/${id}`, status: "running" });
  await database.db.insert(agentSessions).values({ id: `s_${id}`, workspaceId: `w_${id}`, taskId: id, agent: "script", status: sessionStatus, endedAt: endedAgoMs === null ? null : new Date(Date.now() - endedAgoMs) });
}

describe("re-waking runs that missed their agent's completion", () => {
  it("wakes a task whose session ended seconds ago but is still in progress, and no other", async () => {
    await taskWithSession("missed", "stopped", 10_000);
    await taskWithSession("failed-agent", "error", 10_000);
    await taskWithSession("just-ended", "stopped", 1_000);
    await taskWithSession("working", "running", null);
    expect((await rewakeFinishedAgents(rt)).sort()).toEqual(["failed-agent", "missed"]);
    expect(rt.sent).toEqual(
      expect.arrayContaining([
        { name: "agent/completed", data: { taskId: "missed", sessionId: "s_missed", turn: 1, branch: "agents/missed", commit: null, pushed: false } },
        { name: "agent/failed", data: { taskId: "failed-agent", sessionId: "s_failed-agent", turn: 1, error: null } },
      ]),
    );
  });
});
