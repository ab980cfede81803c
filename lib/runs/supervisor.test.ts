import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import type { EngineApi } from "../engine/api";
import { startSupervisor } from "./supervisor";

let database: Awaited<ReturnType<typeof openTestDatabase>>;

beforeAll(async () => {
  database = await openTestDatabase();
  await database.db.insert(users).values({ id: "u1", email: "u1@example.test", name: "U" });
}, 60_000);
afterAll(async () => database?.close());

/** An engine that answers and has lost every run (as a restarted dev server has). */
const restartedEngine: EngineApi = { url: "http://engine.test", reachable: async () => true, runState: async () => "unknown", eventKnown: async () => false, eventRuns: async () => [] };

describe("the supervisor after the engine comes back", () => {
  it("re-drives lost runs only once registering the app succeeded, and tries registering again on the next pass", async () => {
    const rt = { ...(await testRuntime(database, { NODE_MONITOR_INTERVAL: "50ms" })), engine: restartedEngine };
    await database.db.insert(tasks).values({ id: "t1", userId: "u1", repository: "/tmp/r", prompt: "p", agent: "script", status: "in_progress", branch: "agents/t1", runId: "01LOSTRUN" });
    const events: string[] = [];
    let registers = 0;
    let redriven!: () => void;
    const done = new Promise<void>((resolve) => (redriven = resolve));
    const supervisor = startSupervisor({
      runtime: async () => rt,
      log: (_level, msg) => {
        events.push(msg);
        if (msg.startsWith("reconciler: task t1 redriven")) redriven();
      },
      register: async () => {
        registers++;
        events.push(`register ${registers}`);
        if (registers === 1) throw new Error("the engine reset the connection");
      },
    });
    try {
      await done;
    } finally {
      supervisor.stop();
    }
    const [task] = await database.db.select().from(tasks).where(eq(tasks.id, "t1"));
    expect(task!.runGeneration).toBe(1);
    // The failed register reconciled nothing; the re-drive came after the second, successful one.
    const failed = events.indexOf("register 1");
    const second = events.indexOf("register 2");
    const redrive = events.findIndex((e) => e.startsWith("reconciler: task t1 redriven"));
    expect(failed).toBeGreaterThanOrEqual(0);
    expect(second).toBeGreaterThan(failed);
    expect(redrive).toBeGreaterThan(second);
  });
});
