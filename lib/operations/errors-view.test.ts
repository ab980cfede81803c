import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { openTestDatabase } from "@/tests/harness/test-database";
import { errors, liveEvents, nodes, tasks, users, workspaces } from "@/db/schema";
import { ErrorList } from "../contracts/api";
import { recordError } from "../errors";
import { ERRORS_STREAM } from "../live/publish";
import { countErrors, errorList, listErrors } from "./errors-view";

const U1 = { userId: "u1", seesSystem: true };
const U2 = { userId: "u2", seesSystem: true };

describe("the errors page's read against Postgres", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;

  beforeAll(async () => {
    database = await openTestDatabase();
    const db = database.db;
    await db.insert(users).values([
      { id: "u1", email: "u1@example.test", name: "U1" },
      { id: "u2", email: "u2@example.test", name: "U2" },
    ]);
    await db.insert(nodes).values([
      { id: "n1", userId: "u1", provider: "local", status: "running" },
      { id: "n2", userId: "u2", provider: "local", status: "running" },
    ]);
    const task = (id: string, userId: string, prompt: string): typeof tasks.$inferInsert => ({ id, userId, repository: "/tmp/r", prompt, agent: "script", status: "failed", branch: `agents/${id}` });
    await db.insert(tasks).values([task("t1", "u1", "\n  Fix the login bug  \nwith details"), task("t2", "u2", "Theirs"), task("t3", "u1", "x".repeat(300))]);
    await db.insert(workspaces).values({ id: "w3", taskId: "t3", nodeId: "n1", status: "error", branch: "agents/t3" });
    const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000);
    await db.insert(errors).values([
      { kind: "failure", taskId: "t1", nodeId: "n1", workspaceId: "w1", step: "workspace_ready", message: "clone failed: no such repository", createdAt: at(50) },
      { kind: "recovery", taskId: "t1", step: null, message: "run lost; re-driven as run generation 1", createdAt: at(40) },
      { kind: "stuck", taskId: "t2", step: "running", message: "theirs: no progress", createdAt: at(30) },
      { kind: "orphan", nodeId: "n1", message: "workspace w9 on n1 belongs to no task", createdAt: at(20) },
      { kind: "orphan", nodeId: "n2", message: "theirs: orphan", createdAt: at(15) },
      { kind: "cleanup", workspaceId: "w3", step: "cleanup", message: "cleanup failed, will be retried", createdAt: at(10) },
      { kind: "failure", message: "the system's own: engine unreachable", createdAt: at(5) },
    ]);
  }, 60_000);
  afterAll(async () => database?.close());

  it("lists the user's errors and the system's own, newest first, never another user's", async () => {
    const list = await listErrors(database.db, U1);
    expect(list.map((e) => e.message)).toEqual([
      "the system's own: engine unreachable",
      "cleanup failed, will be retried",
      "workspace w9 on n1 belongs to no task",
      "run lost; re-driven as run generation 1",
      "clone failed: no such repository",
    ]);
    expect(list.some((e) => e.message.startsWith("theirs"))).toBe(false);
  });

  it("carries the task, node, workspace, step and the task's first line", async () => {
    const [failure] = (await listErrors(database.db, U1, { kind: "failure" })).filter((e) => e.taskId);
    expect(failure).toMatchObject({ kind: "failure", taskId: "t1", nodeId: "n1", workspaceId: "w1", step: "workspace_ready", taskTitle: "Fix the login bug" });
    const orphan = (await listErrors(database.db, U1, { kind: "orphan" }))[0];
    expect(orphan).toMatchObject({ taskId: null, taskTitle: null, nodeId: "n1" });
    const long = (await listErrors(database.db, U1, { kind: "cleanup" }))[0];
    expect(long?.taskTitle).toBeNull();
  });

  it("filters by kind and counts every kind", async () => {
    expect((await listErrors(database.db, U1, { kind: "recovery" })).map((e) => e.kind)).toEqual(["recovery"]);
    expect(await listErrors(database.db, U1, { kind: "stuck" })).toEqual([]);
    expect(await countErrors(database.db, U1)).toEqual({ failure: 2, recovery: 1, stuck: 0, orphan: 1, cleanup: 1 });
    expect(await countErrors(database.db, U2)).toEqual({ failure: 1, recovery: 0, stuck: 1, orphan: 1, cleanup: 0 });
    // A member of a team sees only their own: the system's own failure is for admins.
    expect(await countErrors(database.db, { userId: "u2", seesSystem: false })).toEqual({ failure: 0, recovery: 0, stuck: 1, orphan: 1, cleanup: 0 });
  });

  it("keeps to the limit, newest first", async () => {
    const list = await listErrors(database.db, U1, { limit: 2 });
    expect(list.map((e) => e.kind)).toEqual(["failure", "cleanup"]);
  });

  it("answers the contract, and a newly recorded error shows at once and is published on the errors stream", async () => {
    await recordError(database.db, { taskId: "t3", kind: "stuck", step: "running", message: "no progress in step running for 70 min" });
    const answer = ErrorList.parse(await errorList(database.db, U1));
    expect(answer.errors[0]).toMatchObject({ kind: "stuck", taskId: "t3", taskTitle: `${"x".repeat(119)}…` });
    expect(answer.counts.stuck).toBe(1);
    const published = await database.db.select().from(liveEvents).where(eq(liveEvents.taskId, ERRORS_STREAM));
    expect(published.length).toBeGreaterThan(0);
  });
});
