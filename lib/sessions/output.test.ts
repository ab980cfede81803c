import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "@/tests/harness/test-database";
import { agentSessions, nodes, tasks, users, workspaces } from "@/db/schema";
import { recordAgentOutput, taskOutput } from "./output";

describe("recordAgentOutput against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let seq = 0;

  beforeAll(async () => {
    database = await openTestDatabase();
    await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
    await database.db.insert(nodes).values({ id: "n1", userId: "u1", provider: "local", status: "running" });
  }, 60_000);
  afterAll(async () => database?.close());

  /** A task with a workspace and a running agent session, as the pipeline leaves them. */
  async function session() {
    const n = ++seq;
    const [taskId, workspaceId, sessionId] = [`t${n}`, `w_${n}`, `s_${n}`];
    await database.db.insert(tasks).values({ id: taskId, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/p-${n}` });
    await database.db.insert(workspaces).values({ id: workspaceId, taskId, nodeId: "n1", status: "running", branch: `agents/p-${n}` });
    await database.db.insert(agentSessions).values({ id: sessionId, workspaceId, taskId, agent: "script", status: "running" });
    return { taskId, workspaceId, sessionId };
  }

  const batch = (workspaceId: string, offset: number, lines: string[]) => ({ messageId: `m-${offset}`, workspaceId, turn: 1, offset, lines });

  it("stores a line with NUL, which jsonb cannot hold, with the NUL made visible", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 0, ["nul:\u0000:end", "plain"]))).toEqual({ outcome: "applied" });
    expect((await taskOutput(database.db, taskId, 100)).lines).toEqual(["nul:\u2400:end", "plain"]);
  });

  it("stores lines with lone surrogates, which jsonb cannot hold, as replacement characters; pairs stay", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    const lines = ["high:\ud800:end", "low:\udfff:end", "reversed:\udfff\ud800:end", "pair:\ud83d\ude00:ok"];
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 0, lines))).toEqual({ outcome: "applied" });
    expect((await taskOutput(database.db, taskId, 100)).lines).toEqual(["high:\ufffd:end", "low:\ufffd:end", "reversed:\ufffd\ufffd:end", "pair:😀:ok"]);
  });

  it("stores a line of 100,000 characters whole, and a repeat of the batch is a duplicate", async () => {
    const { taskId, workspaceId, sessionId } = await session();
    const long = "é".repeat(50_000) + "x".repeat(50_000);
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 0, ["first"]))).toEqual({ outcome: "applied" });
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 6, [long, "after"]))).toEqual({ outcome: "applied" });
    expect(await recordAgentOutput(database.db, sessionId, batch(workspaceId, 6, [long, "after"]))).toEqual({ outcome: "duplicate" });
    const { lines } = await taskOutput(database.db, taskId, 100);
    expect(lines).toEqual(["first", long, "after"]);
    expect(lines[1]).toHaveLength(100_000);
  });
});
