/**
 * Chaos under stray wakes: a task awaiting a follow-up and a task queued behind a full pool keep
 * their deadlines while wakes that find nothing arrive. Shared settings and helpers: scenario.ts.
 */
import { expect } from "vitest";
import { eq } from "drizzle-orm";
import { tasks } from "@/db/schema";
import { taskFollowup, taskSlotAvailable, type WakeEvent } from "@/lib/contracts/events";
import { newGate } from "../harness/gated-agent";
import { untilFinished, watchTask } from "../harness/live-client";
import type { TestSystem } from "../harness/test-system";
import { record } from "./report";
import { each, gatedTask, MAX_PER_NODE, reportAfterAll, scenarios, untilStage } from "./scenario";
import { verifyRun } from "./verify";

reportAfterAll("wakes");

/**
 * Wakes that find nothing, straight to the engine (past the app's coalescing, as a storm of resent
 * or stray wakes would arrive), every WAKE_EVERY_MS for `forMs`. The run must keep its deadline.
 */
async function strayWakes(system: TestSystem, wake: WakeEvent, forMs: number) {
  const WAKE_EVERY_MS = 500;
  let sent = 0;
  for (const until = Date.now() + forMs; Date.now() < until; sent++) {
    const sent = await fetch(`${system.inngestUrl}/e/chaos`, { method: "POST", body: JSON.stringify(wake) });
    expect(sent.ok).toBe(true);
    await new Promise((r) => setTimeout(r, WAKE_EVERY_MS)); // the storm's pace: what is tested is that time passes under it
  }
  return sent;
}

// Short slices (2 s doubling to 4 s), so a wait's first three slices (2 + 4 + 4 s) pass within a
// scenario; on main, each wake that found nothing ended a slice, and 40 wakes ate the whole wait.
const LONG_WAIT_SLICES = { READY_RECHECK_INTERVAL: "2s", READY_RECHECK_MAX: "4s" };
const HOLD_MS = 20_000;

scenarios("long waits under wakes", { NODE_WARM_TIMEOUT: "10m", SESSION_IDLE_TIMEOUT: "2m", ...LONG_WAIT_SLICES }, (system) => {
  each("a task awaiting a follow-up for longer than three slices while wakes arrive takes the follow-up as its second turn", async () => {
    const task = gatedTask(system(), "none");
    const taskId = await task.submit();
    const watch = await watchTask(system(), taskId);
    try {
      const waiting = await watch.until((t) => t.executionStep === "awaiting_followup" && t.idleUntil !== null, 90_000, "the first turn to end");
      const started = Date.now();
      const wakes = await strayWakes(system(), taskFollowup.create({ taskId }), HOLD_MS);
      const { body: still } = await system().api("GET", `/api/tasks/${taskId}`);
      expect(still, `after ${wakes} wakes in ${HOLD_MS} ms`).toMatchObject({ status: "in_progress", executionStep: "awaiting_followup", idleUntil: waiting.idleUntil });
      const followUp = newGate("the second turn", true);
      expect((await system().api("POST", `/api/tasks/${taskId}/messages`, { body: followUp.prompt })).status).toBe(202);
      await watch.until((t) => t.executionStep === "awaiting_followup" && t.messages.some((m) => m.status === "delivered"), 90_000, "the second turn to end");
      expect((await system().api("POST", `/api/tasks/${taskId}/finish`, {})).status).toBeLessThan(300);
      const { endedAt } = await untilFinished(system(), taskId, 60_000);
      const result = await verifyRun(system(), [taskId], { maxPerNode: MAX_PER_NODE, turns: 2 });
      record("awaiting follow-up under wakes, then a second turn", { ...result, recoverMs: endedAt - started });
      expect(result.problems).toEqual([]);
    } finally {
      watch.close();
    }
  });
});

scenarios(
  "a queue under wakes",
  { NODE_WARM_TIMEOUT: "10m", MAX_NODES_PER_USER: "1", MAX_WORKSPACES_PER_NODE: "1", TASK_QUEUE_TIMEOUT: "1m", ...LONG_WAIT_SLICES },
  (system) => {
    each("a task queued behind a full pool while capacity wakes arrive is placed when a slot frees", async () => {
      const holder = gatedTask(system(), "agent");
      const holderId = await holder.submit();
      await untilStage(system(), holderId, "running");
      const queued = gatedTask(system(), "none");
      const queuedId = await queued.submit();
      const watch = await watchTask(system(), queuedId);
      try {
        await watch.until((t) => t.status === "queued", 30_000, "the task to queue");
      } finally {
        watch.close();
      }
      const started = Date.now();
      const wakes = await strayWakes(system(), taskSlotAvailable.create({ taskId: queuedId, userId: (await system().database.db.select().from(tasks).where(eq(tasks.id, queuedId)))[0]!.userId }), HOLD_MS);
      const { body: still } = await system().api("GET", `/api/tasks/${queuedId}`);
      expect(still, `after ${wakes} capacity wakes in ${HOLD_MS} ms`).toMatchObject({ status: "queued" });
      holder.open();
      const [{ endedAt }] = await Promise.all([untilFinished(system(), queuedId, 120_000), untilFinished(system(), holderId, 60_000)]);
      const result = await verifyRun(system(), [holderId, queuedId], { maxPerNode: 1 });
      record("queued behind a full pool under wakes, then placed", { ...result, recoverMs: endedAt - started });
      expect(result.problems).toEqual([]);
    });
  },
);
