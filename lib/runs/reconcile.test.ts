import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import type { EngineApi } from "../engine/api";
import { engineLostRuns, reconcile } from "./reconcile";

let database: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

/** The dev engine's answers about an event it does not (yet) have in its history. */
const engineWithoutTheEvent: EngineApi = { url: "http://engine.test", reachable: async () => true, runState: async () => "unknown", eventKnown: async () => false, eventRuns: async () => [] };

describe("a trigger event the engine does not list", () => {
  it("is no evidence of a lost run in the seconds after it was sent, and is afterwards", async () => {
    const rt = { ...(await testRuntime(database)), engine: engineWithoutTheEvent };
    const sentAt = new Date();
    await database.db.insert(tasks).values({ id: "t1", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: "agents/t1", runEventId: "01EVENT", runDispatchedAt: sentAt });

    // Just sent: not yet in the engine's history (seen on the dev server right after a submit).
    expect(await engineLostRuns(rt, sentAt.getTime() + 500)).toBeUndefined();
    expect((await reconcile(rt, { now: sentAt.getTime() + 500 })).redriven).toEqual([]);

    const later = sentAt.getTime() + 6_000;
    expect(await engineLostRuns(rt, later)).toMatch(/no longer has the trigger event of task t1/);
    expect((await reconcile(rt, { now: later })).redriven).toEqual([expect.objectContaining({ taskId: "t1", outcome: "redriven", generation: 1 })]);
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, "t1"));
    expect(task!.runGeneration).toBe(1);
  });
});
