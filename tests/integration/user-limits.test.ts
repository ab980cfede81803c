/**
 * Per-person limits under concurrency, against a real PostgreSQL through Neon's driver (each
 * request its own transaction on its own connection): submissions, retries and follow-ups sent all
 * at once never pass MAX_TASK_SUBMISSIONS_PER_MINUTE, MAX_ACTIVE_TASKS_PER_USER or
 * MAX_FOLLOWUPS_PER_MINUTE, and another person is not held back.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { and, eq, inArray } from "drizzle-orm";
import { taskMessages, tasks, users } from "@/db/schema";
import type { Database } from "@/db/client";
import { parseConfig } from "@/lib/config";
import type { SendEvents } from "@/lib/contracts/events";
import { createTask } from "@/lib/tasks/create-task";
import { retryTask } from "@/lib/tasks/retry-task";
import { runStarter } from "@/lib/runs/start";
import { sendMessage } from "@/lib/tasks/messages";
import { openPostgresDatabase } from "../harness/postgres-database";

let database: Database;
let person = 0;
let userId: string;
const send: SendEvents = async () => ({ ids: [] });
const repository = "https://git.example.test/acme/app.git";

const teamConfig = (limits: Record<string, string>) =>
  parseConfig({
    AUTH_MODE: "team",
    AUTH_SECRET: "limits-secret-".padEnd(40, "x"),
    GITHUB_CLIENT_ID: "Iv1.limits",
    GITHUB_CLIENT_SECRET: "limits",
    SECRETS_KEYS: `k1:${Buffer.alloc(32, 7).toString("base64")}`,
    APP_URL: "http://127.0.0.1:3000",
    ...limits,
  });

beforeAll(async () => {
  database = await openPostgresDatabase();
});
afterAll(async () => database?.close());
beforeEach(async () => {
  userId = `limits-user-${++person}`;
  await database.db.insert(users).values({ id: userId, email: `${userId}@example.test`, name: userId });
});

/** Settles every promise, answering how many were fulfilled and the messages of the rest. */
async function settle<T>(work: Promise<T>[]) {
  const results = await Promise.allSettled(work);
  return {
    fulfilled: results.filter((r) => r.status === "fulfilled").length,
    refusals: results.flatMap((r) => (r.status === "rejected" ? [String((r.reason as Error).message)] : [])),
  };
}

const submitMany = (n: number, config: ReturnType<typeof teamConfig>, owner = userId) =>
  settle(Array.from({ length: n }, (_, i) => createTask({ db: database.db, config, userId: owner, startRun: runStarter({ db: database.db, send }) }, { repository, prompt: `task ${i}`, agent: "script" })));

const countTasks = async (owner = userId) => (await database.db.select({ id: tasks.id }).from(tasks).where(eq(tasks.userId, owner))).length;

async function endedTasks(n: number, status: "failed" | "cancelled" = "failed") {
  const ids = Array.from({ length: n }, (_, i) => `${userId}-ended-${i}`);
  await database.db.insert(tasks).values(ids.map((id) => ({ id, userId, repository, prompt: "p", agent: "script", status, branch: `agents/${id}` })));
  return ids;
}

describe("per-person limits under concurrency", () => {
  it("20 submissions at once against MAX_TASK_SUBMISSIONS_PER_MINUTE=5 accept exactly 5", async () => {
    const { fulfilled, refusals } = await submitMany(20, teamConfig({ MAX_TASK_SUBMISSIONS_PER_MINUTE: "5", MAX_ACTIVE_TASKS_PER_USER: "100" }));
    expect(fulfilled).toBe(5);
    expect(refusals).toHaveLength(15);
    for (const refusal of refusals) expect(refusal).toMatch(/MAX_TASK_SUBMISSIONS_PER_MINUTE/);
    expect(await countTasks()).toBe(5);
  });

  it("20 submissions at once against MAX_ACTIVE_TASKS_PER_USER=5 accept exactly 5, and another person is not held back", async () => {
    const config = teamConfig({ MAX_TASK_SUBMISSIONS_PER_MINUTE: "100", MAX_ACTIVE_TASKS_PER_USER: "5" });
    const other = `${userId}-other`;
    await database.db.insert(users).values({ id: other, email: `${other}@example.test`, name: other });
    const [mine, theirs] = await Promise.all([submitMany(20, config), submitMany(3, config, other)]);
    expect(mine.fulfilled).toBe(5);
    for (const refusal of mine.refusals) expect(refusal).toMatch(/MAX_ACTIVE_TASKS_PER_USER/);
    expect(await countTasks()).toBe(5);
    expect(theirs.fulfilled).toBe(3);
  });

  it("a retry is a submission: 8 retries at once against MAX_TASK_SUBMISSIONS_PER_MINUTE=3 queue exactly 3", async () => {
    const config = teamConfig({ MAX_TASK_SUBMISSIONS_PER_MINUTE: "3", MAX_ACTIVE_TASKS_PER_USER: "100" });
    const ids = await endedTasks(8);
    const { fulfilled, refusals } = await settle(ids.map((id) => retryTask({ db: database.db, startRun: runStarter({ db: database.db, send }), config }, userId, id)));
    expect(fulfilled).toBe(3);
    for (const refusal of refusals) expect(refusal).toMatch(/MAX_TASK_SUBMISSIONS_PER_MINUTE/);
    const queued = await database.db.select({ id: tasks.id }).from(tasks).where(and(eq(tasks.userId, userId), eq(tasks.status, "queued")));
    expect(queued).toHaveLength(3);
    // Submissions share that minute with the retries.
    expect((await submitMany(1, config)).fulfilled).toBe(0);
  });

  it("a retry makes its task unfinished again: with 3 unfinished and MAX_ACTIVE_TASKS_PER_USER=5, 6 retries and 6 submissions at once leave exactly 5 unfinished", async () => {
    const config = teamConfig({ MAX_TASK_SUBMISSIONS_PER_MINUTE: "100", MAX_ACTIVE_TASKS_PER_USER: "5" });
    await submitMany(3, config);
    const ids = await endedTasks(6, "cancelled");
    const retries = settle(ids.map((id) => retryTask({ db: database.db, startRun: runStarter({ db: database.db, send }), config }, userId, id)));
    const submissions = submitMany(6, config);
    const [retried, submitted] = await Promise.all([retries, submissions]);
    expect(retried.fulfilled + submitted.fulfilled).toBe(2);
    for (const refusal of [...retried.refusals, ...submitted.refusals]) expect(refusal).toMatch(/MAX_ACTIVE_TASKS_PER_USER/);
    const unfinished = await database.db.select({ id: tasks.id }).from(tasks).where(and(eq(tasks.userId, userId), inArray(tasks.status, ["queued"])));
    expect(unfinished).toHaveLength(5);
  });

  it("20 follow-ups at once over two tasks against MAX_FOLLOWUPS_PER_MINUTE=5 store exactly 5; a resend of a stored one is not counted", async () => {
    const config = teamConfig({ MAX_FOLLOWUPS_PER_MINUTE: "5" });
    const ids = [`${userId}-open-1`, `${userId}-open-2`];
    await database.db.insert(tasks).values(ids.map((id): typeof tasks.$inferInsert => ({ id, userId, repository, prompt: "p", agent: "script", status: "in_progress", branch: `agents/${id}` })));
    const deps = { db: database.db, send, config };
    const { fulfilled, refusals } = await settle(Array.from({ length: 20 }, (_, i) => sendMessage(deps, userId, ids[i % 2]!, { body: `message ${i}`, clientId: `c${i}` })));
    expect(fulfilled).toBe(5);
    for (const refusal of refusals) expect(refusal).toMatch(/MAX_FOLLOWUPS_PER_MINUTE/);
    const stored = await database.db.select({ clientId: taskMessages.clientId, taskId: taskMessages.taskId }).from(taskMessages).where(inArray(taskMessages.taskId, ids));
    expect(stored).toHaveLength(5);
    const again = await sendMessage(deps, userId, stored[0]!.taskId, { body: "again", clientId: stored[0]!.clientId });
    expect(again.outcome).toBe("queued");
  });
});
