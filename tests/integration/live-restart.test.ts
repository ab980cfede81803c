/**
 * The live channel across a PostgreSQL restart, on a server of this file's own: a page's stream
 * that was open while the database restarted still shows what happens next (the app's LISTEN
 * connection reconnects and subscribes again, and every stream re-reads what it shows), and a
 * browser that reconnects with Last-Event-ID gets what changed after that id, and nothing it has.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { latestLiveEventId } from "@/lib/live/queries";
import { makeRepo } from "../harness/git";
import { watchTask } from "../harness/live-client";
import { restartPostgres, startPostgres, type PostgresServer } from "../harness/postgres";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let postgres: PostgresServer;
let system: TestSystem;

beforeAll(async () => {
  postgres = await startPostgres();
  system = await startTestSystem({ SESSION_IDLE_TIMEOUT: "10m", LIVE_KEEPALIVE_INTERVAL: "1s" }, { postgresPort: postgres.port });
});
afterAll(async () => {
  await system?.stop();
  await postgres?.stop();
});

describe("the live channel", () => {
  it("keeps a page's stream live across a PostgreSQL restart, and resumes a reconnecting one from its Last-Event-ID", async () => {
    const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt: "Across a database restart" });
    expect(status, JSON.stringify(body)).toBe(202);
    const taskId = body.taskId as string;
    const page = await watchTask(system, taskId);
    try {
      await page.until((t) => t.executionStep === "awaiting_followup", 120_000, "the first turn to end");

      // Every connection drops, the app's LISTEN session too; the data stays.
      restartPostgres(postgres.dataDir);

      // The next change after the restart reaches the stream that was open all along.
      const sent = await system.api("POST", `/api/tasks/${taskId}/messages`, { body: "And after the restart?", clientId: "after-restart" });
      expect(sent.status, JSON.stringify(sent.body)).toBe(202);
      const answered = await page.until(
        (t) => t.executionStep === "awaiting_followup" && t.messages.some((m) => m.clientId === "after-restart" && m.status === "delivered"),
        120_000,
        "the follow-up's turn to end, seen live",
      );
      expect(answered.messages.find((m) => m.clientId === "after-restart")!.turn).toBe(2);
    } finally {
      page.close();
    }

    // The browser lost its stream here; meanwhile the person finished the task (from another tab).
    const seen = page.history.at(-1)!.eventId;
    expect(seen).toBeGreaterThan(0);
    expect((await system.api("POST", `/api/tasks/${taskId}/finish`, {})).status).toBeLessThan(300);

    // Reconnecting with the last id it saw, it gets the task as it is now, under a newer id.
    const resumed = await watchTask(system, taskId, { "last-event-id": String(seen) });
    try {
      const now = await resumed.until((t) => t.status === "completed" && t.cleanedUpAt !== null, 120_000, "the finished task");
      expect(now.messages.map((m) => m.status)).toEqual(["delivered"]);
      expect(resumed.history[0]!.eventId).toBeGreaterThan(seen);
    } finally {
      resumed.close();
    }

    // Reconnecting with the newest id the server has for the task: nothing it has is sent again (a
    // message may only come for a change after that id; the server's keep-alive ends the look).
    const newest = await latestLiveEventId(system.database.db, taskId);
    expect(newest).toBeGreaterThanOrEqual(resumed.history.at(-1)!.eventId);
    const current = await watchTask(system, taskId, { "last-event-id": String(newest) });
    try {
      await current.nextKeepAlive();
      expect(current.history.filter((h) => h.eventId <= newest)).toEqual([]);
    } finally {
      current.close();
    }
  });
});
