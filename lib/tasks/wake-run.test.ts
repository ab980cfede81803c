/** Wakes are coalesced per task and event until the run looks: a burst reaches the engine once, a lost one is sent again. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { agentCompleted, nodeReady, taskSlotAvailable, workspaceReady, type SendEvents } from "../contracts/events";
import { recordRunCheckIn } from "../runs/steps";
import { wakeRuns } from "./wake-run";

let database: Awaited<ReturnType<typeof openTestDatabase>>;
const engine: { name: string; taskId: string }[] = [];
let refuse = false;
const send: SendEvents = async (events) => {
  if (refuse) throw new Error("the engine is down");
  for (const e of [events].flat()) engine.push({ name: e.name, taskId: e.data.taskId });
  return { ids: [] };
};
// Long enough that two thousand wakes on a loaded machine (PGlite took 7.6 s for them) all fall within it.
const deps = () => ({ db: database.db, send, config: { WAKE_RESEND_AFTER: 60_000 } });

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
  const task = (id: string): typeof tasks.$inferInsert => ({ id, userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: `agents/${id}` });
  await database.db.insert(tasks).values([task("t1"), task("t2"), task("t3"), task("t4")]);
}, 60_000);
afterAll(async () => database?.close());

const sentFor = (taskId: string, name?: string) => engine.filter((e) => e.taskId === taskId && (!name || e.name === name)).length;
const slotFreed = (taskId: string) => taskSlotAvailable.create({ taskId, userId: "u1" });
const nodeUp = (taskId: string) => nodeReady.create({ taskId, nodeId: "n1" });

describe("waking a task's run", () => {
  it("sends a thousand wakes fired at once as one, and the next one once the run has looked", async () => {
    const sent = await Promise.all(Array.from({ length: 1000 }, () => wakeRuns(deps(), [slotFreed("t1")], "throw")));
    expect(sent.flat()).toEqual(["t1"]);
    expect(sentFor("t1")).toBe(1);
    // A thousand more before the run looks: still the one.
    for (let i = 0; i < 1000; i++) await wakeRuns(deps(), [slotFreed("t1")], "throw");
    expect(sentFor("t1")).toBe(1);
    // The run looks (every check of a wait does): what comes after needs a wake of its own.
    await recordRunCheckIn(database.db, "t1", 0, 30_000);
    expect(await wakeRuns(deps(), [agentCompleted.create({ taskId: "t1", sessionId: "s1", turn: 1, branch: "agents/t1", commit: null, pushed: false })], "throw")).toEqual(["t1"]);
    expect(sentFor("t1")).toBe(2);
  }, 120_000); // two thousand wakes through PGlite: 7 s when CI runs it, 35 s on a machine loaded to 14 on 2 cores

  it("coalesces per task: a wake outstanding for one task holds back no other", async () => {
    await wakeRuns(deps(), [nodeUp("t2")], "throw");
    expect((await wakeRuns(deps(), [nodeUp("t2"), nodeUp("t3"), nodeUp("t3")], "throw")).sort()).toEqual(["t3"]);
    expect([sentFor("t2"), sentFor("t3")]).toEqual([1, 1]);
  });

  it("takes a wake unanswered for WAKE_RESEND_AFTER for lost and sends the next", async () => {
    await database.db.update(tasks).set({ wakesSent: { [nodeReady.name]: new Date(Date.now() - 61_000).toISOString() } }).where(eq(tasks.id, "t2"));
    expect(await wakeRuns(deps(), [nodeUp("t2")], "throw")).toEqual(["t2"]);
    expect(sentFor("t2")).toBe(2);
  });

  it("leaves no stamp behind for a wake the engine refused, so the next writer sends it", async () => {
    await recordRunCheckIn(database.db, "t3", 0, 30_000);
    refuse = true;
    await expect(wakeRuns(deps(), [workspaceReady.create({ taskId: "t3", workspaceId: "w3" })], "throw")).rejects.toThrow("the engine is down");
    refuse = false;
    expect(await wakeRuns(deps(), [workspaceReady.create({ taskId: "t3", workspaceId: "w3" })], "throw")).toEqual(["t3"]);
  });

  it("answers a refused wake as its caller chose: a person's change ('log') stands, with no stamp left behind", async () => {
    await recordRunCheckIn(database.db, "t3", 0, 30_000);
    refuse = true;
    expect(await wakeRuns(deps(), [workspaceReady.create({ taskId: "t3", workspaceId: "w3" })], "log")).toEqual([]);
    refuse = false;
    expect(await wakeRuns(deps(), [workspaceReady.create({ taskId: "t3", workspaceId: "w3" })], "log")).toEqual(["t3"]);
  });

  it("does not let a wake of one event, outstanding while the run waits for another, hold back the one it waits for", async () => {
    // The run waits for its workspace (listening for workspace/ready); its node reported ready again
    // meanwhile: that wake goes out and finds no wait for it, so the run does not look.
    await recordRunCheckIn(database.db, "t4", 0, 30_000);
    expect(await wakeRuns(deps(), [nodeUp("t4")], "throw")).toEqual(["t4"]);
    // The workspace is ready: the event its wait listens for must reach the engine now, not at the end of the slice.
    expect(await wakeRuns(deps(), [workspaceReady.create({ taskId: "t4", workspaceId: "w4" })], "throw")).toEqual(["t4"]);
    expect(sentFor("t4", workspaceReady.name)).toBe(1);
    // A repeat of either, before the run looks, is still coalesced.
    expect(await wakeRuns(deps(), [nodeUp("t4"), workspaceReady.create({ taskId: "t4", workspaceId: "w4" })], "throw")).toEqual([]);
    expect(sentFor("t4")).toBe(2);
    // The run looks: that answers both, and what comes after needs wakes of its own, of either name.
    await recordRunCheckIn(database.db, "t4", 0, 30_000);
    expect(await wakeRuns(deps(), [nodeUp("t4")], "throw")).toEqual(["t4"]);
    expect(await wakeRuns(deps(), [workspaceReady.create({ taskId: "t4", workspaceId: "w4" })], "throw")).toEqual(["t4"]);
    expect(sentFor("t4")).toBe(4);
  });
});
