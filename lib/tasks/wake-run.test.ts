/** Wakes are coalesced per task until the run looks: a burst reaches the engine once, a lost one is sent again. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq, sql } from "drizzle-orm";
import { tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import type { SendEvents } from "../contracts/events";
import { recordRunCheckIn } from "../runs/steps";
import { wakeRuns } from "./wake-run";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const engine: { taskId: string }[] = [];
let refuse = false;
const send: SendEvents = async (events) => {
  if (refuse) throw new Error("the engine is down");
  for (const e of [events].flat()) engine.push(e.data as { taskId: string });
  return { ids: [] };
};
const deps = () => ({ db: database.db, send, config: { WAKE_RESEND_AFTER: 5_000 } });

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  const task = (id: string): typeof tasks.$inferInsert => ({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/${id}` });
  await database.db.insert(tasks).values([task("t1"), task("t2"), task("t3")]);
}, 60_000);
afterAll(async () => database?.close());

const sentFor = (taskId: string) => engine.filter((e) => e.taskId === taskId).length;

describe("waking a task's run", () => {
  it("sends a thousand wakes fired at once as one, and the next one once the run has looked", async () => {
    const sent = await Promise.all(Array.from({ length: 1000 }, () => wakeRuns(deps(), ["t1"], "capacity")));
    expect(sent.flat()).toEqual(["t1"]);
    expect(sentFor("t1")).toBe(1);
    // A thousand more before the run looks: still the one.
    for (let i = 0; i < 1000; i++) await wakeRuns(deps(), ["t1"], "capacity");
    expect(sentFor("t1")).toBe(1);
    // The run looks (every check of a wait does): what comes after needs a wake of its own.
    await recordRunCheckIn(database.db, "t1", 0, 30_000);
    expect(await wakeRuns(deps(), ["t1"], "agent-completed")).toEqual(["t1"]);
    expect(sentFor("t1")).toBe(2);
  });

  it("coalesces per task: a wake outstanding for one task holds back no other", async () => {
    await wakeRuns(deps(), ["t2"], "node-ready");
    expect((await wakeRuns(deps(), ["t2", "t3", "t3"], "node-ready")).sort()).toEqual(["t3"]);
    expect([sentFor("t2"), sentFor("t3")]).toEqual([1, 1]);
  });

  it("takes a wake unanswered for WAKE_RESEND_AFTER for lost and sends the next", async () => {
    await database.db.update(tasks).set({ wakeSentAt: sql`now() - interval '6 seconds'` }).where(eq(tasks.id, "t2"));
    expect(await wakeRuns(deps(), ["t2"], "node-ready")).toEqual(["t2"]);
    expect(sentFor("t2")).toBe(2);
  });

  it("leaves no stamp behind for a wake the engine refused, so the next writer sends it", async () => {
    await recordRunCheckIn(database.db, "t3", 0, 30_000);
    refuse = true;
    await expect(wakeRuns(deps(), ["t3"], "workspace-ready")).rejects.toThrow("the engine is down");
    refuse = false;
    expect(await wakeRuns(deps(), ["t3"], "workspace-ready")).toEqual(["t3"]);
  });
});
