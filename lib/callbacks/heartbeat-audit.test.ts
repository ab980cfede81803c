/**
 * A completion whose callback never reached the control plane is recovered from the node's next
 * heartbeat: the session it no longer lists is read back from the real vm-agent and applied.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { importJWK, type JWK } from "jose";
import { agentSessions, errors, nodes, tasks, users, workspaces } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { makeRepo } from "@/tests/harness/git";
import { testRuntime } from "@/tests/harness/runtime";
import { CONTRACT_VERSION } from "../contracts/vm-agent";
import { startReceiver, startTestAgent, testKey, workspaceRequest } from "@/vm-agent/test-support";
import { auditHeartbeatSessions } from "./heartbeat-audit";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await database?.close();
});

const heartbeat = (sessions: { sessionId: string; workspaceId: string; status: "running" | "completing" }[]) => ({
  cpuPercent: 1,
  memoryPercent: 1,
  diskPercent: 1,
  workspaces: 1,
  sessions,
  version: "test",
  contractVersion: CONTRACT_VERSION,
});

describe("a heartbeat", () => {
  it("recovers a completion whose callback was lost, and reports a session no task waits for", async () => {
    // The node's callbacks go to a receiver, not to this control plane: the completion never arrives here.
    const receiver = await startReceiver();
    const key = await testKey();
    const agent = await startTestAgent(receiver.url, { key });
    closers.push(receiver.close, agent.close);
    const rt = await testRuntime(database, {}, { ...key.key, publicJwk: key.publicJwk as JWK, publicKey: await importJWK(key.publicJwk as JWK, "ES256") });
    await database.db.insert(nodes).values({ id: agent.config.NODE_ID, userId: "u1", provider: "local", status: "running", endpoint: agent.base, certificateFingerprint: agent.certificateFingerprint });
    await database.db.insert(tasks).values({ id: "t_1", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/test-1", nodeId: agent.config.NODE_ID, workspaceId: "w_1" });
    await database.db.insert(workspaces).values({ id: "w_1", taskId: "t_1", nodeId: agent.config.NODE_ID, branch: "agents/test-1", status: "running" });
    await database.db.insert(agentSessions).values({ id: "s_1", workspaceId: "w_1", taskId: "t_1", agent: "script", status: "running", startedAt: new Date(Date.now() - 60_000) });

    expect((await agent.request("POST", "/workspaces", workspaceRequest(makeRepo()))).status).toBe(202);
    await receiver.next(/w_1\/ready$/);
    expect((await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "Recover me", callbackToken: "cb" })).status).toBe(202);
    const lost = await receiver.next(/s_1\/completed$/);

    // While the node still lists the session nothing happens; once it does not, the completion is read back.
    await auditHeartbeatSessions(rt, agent.config.NODE_ID, heartbeat([{ sessionId: "s_1", workspaceId: "w_1", status: "running" }]));
    expect((await database.db.select().from(agentSessions).where(eq(agentSessions.id, "s_1")))[0]?.status).toBe("running");
    await auditHeartbeatSessions(rt, agent.config.NODE_ID, heartbeat([{ sessionId: "s_9", workspaceId: "w_9", status: "running" }]));

    const [session] = await database.db.select().from(agentSessions).where(eq(agentSessions.id, "s_1"));
    expect(session).toMatchObject({ status: "stopped", commitSha: lost.body.commit });
    expect((await database.db.select().from(tasks).where(eq(tasks.id, "t_1")))[0]?.commitSha).toBe(lost.body.commit);
    expect(rt.sent).toContainEqual({ name: "agent/completed", data: { taskId: "t_1", sessionId: "s_1", turn: 1, branch: lost.body.branch, commit: lost.body.commit, pushed: lost.body.pushed } });
    const orphans = await database.db.select().from(errors).where(eq(errors.kind, "orphan"));
    expect(orphans.map((e) => e.message)).toEqual([`node ${agent.config.NODE_ID} runs agent session s_9, which no task is waiting for`]);
  });
});
