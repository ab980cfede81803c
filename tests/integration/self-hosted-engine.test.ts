/**
 * The self-hosted engine (`ENGINE_MODE=self-hosted`: `inngest start` with a signing key and an
 * event key, its state on disk, the app with INNGEST_DEV=0): a task runs through it; requests that
 * are not signed with the key are refused on both sides (the app refuses the engine's calls, the
 * engine refuses events without its event key); the keys stay out of every argument list; and a
 * task whose engine was killed mid-run finishes: the runner restarts the engine, which restores the
 * run from its snapshot but never resumes it, and the supervisor re-drives it (RUN_STALL_AFTER).
 * So does a task that was queued behind it: its run lost the wait it was parked on, and is
 * re-driven once it is RUN_STALL_AFTER past the time it promised to look again.
 */
import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tasks } from "@/db/schema";
import { engineApi } from "@/lib/engine/api";
import { GATED_AGENT_COMMAND, newGate, untilAgentWaits } from "../harness/gated-agent";
import { makeRepo } from "../harness/git";
import { untilFinished, watchTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
let keys: { signingKey: string; eventKey: string };

beforeAll(async () => {
  system = await startTestSystem({
    ENGINE_MODE: "self-hosted",
    RUN_STALL_AFTER: "10s",
    // A run the engine stops calling between two steps shows RUN_STEP_MAX after the step started.
    RUN_STEP_MAX: "15s",
    SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND,
    // One slot in all, so a second task queues behind the first.
    MAX_NODES_PER_USER: "1",
    MAX_WORKSPACES_PER_NODE: "1",
    // Short wait slices (a queued task's is a hundredth of TASK_QUEUE_TIMEOUT), so a lost wait shows within seconds.
    READY_RECHECK_INTERVAL: "2s",
    READY_RECHECK_MAX: "5s",
    TASK_QUEUE_TIMEOUT: "10m",
  });
  keys = JSON.parse(fs.readFileSync(path.join(system.dataDir, "engine", "keys.json"), "utf8")) as typeof keys;
});
afterAll(() => system?.stop());

/** The Inngest signature of a request body: `t=<unix seconds>&s=<HMAC-SHA256 of body + t, keyed by the hex key>`. */
function signature(body: string, key: string, at = Math.floor(Date.now() / 1000)) {
  return `t=${at}&s=${createHmac("sha256", key).update(body).update(String(at)).digest("hex")}`;
}

async function runTask(prompt: string) {
  const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt });
  expect(status, JSON.stringify(body)).toBe(202);
  return body.taskId as string;
}

describe("the self-hosted engine", () => {
  it("runs a task, signed both ways, with keys made once, owner-only, and never in an argument list", async () => {
    const keysFile = path.join(system.dataDir, "engine", "keys.json");
    expect(fs.statSync(keysFile).mode & 0o777).toBe(0o600);
    expect(keys.signingKey).toMatch(/^[0-9a-f]{64}$/);
    expect(system.env.INNGEST_DEV).toBe("0");
    for (const pid of Object.values(system.pids())) {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
      expect(args).not.toContain(keys.signingKey);
      expect(args).not.toContain(keys.eventKey);
    }
    expect(fs.readFileSync(`/proc/${system.pids().engine}/cmdline`, "utf8").split("\0")).toContain("start");

    const taskId = await runTask(newGate("Through the self-hosted engine", true).prompt);
    const { done } = await untilFinished(system, taskId, 120_000);
    expect(done.status, done.error ?? "").toBe("completed");

    // The engine's API as the reconciler reads it, with the signing key: the trigger event lists the
    // run it started, which ends moments after the task completes (its last step returns first).
    const [row] = await system.database.db.select({ runId: tasks.runId, runEventId: tasks.runEventId }).from(tasks).where(eq(tasks.id, taskId));
    const engine = engineApi({ INNGEST_BASE_URL: system.inngestUrl, INNGEST_DEV: undefined, INNGEST_SIGNING_KEY: keys.signingKey, ENGINE_REQUEST_TIMEOUT: 5_000 });
    expect(row!.runEventId).toBeTruthy();
    const runs = await engine.eventRuns(row!.runEventId!);
    expect(runs.map((run) => run.runId)).toEqual([row!.runId]);
    await expect.poll(async () => (await engine.eventRuns(row!.runEventId!))[0]?.state, { timeout: 30_000 }).toBe("ended");
    expect(await engine.eventRuns("01J0000000000000000000000Z")).toEqual([]);
  });

  it("refuses what is not signed with its keys", async () => {
    // The app refuses a call to its functions that the engine did not sign …
    const call = JSON.stringify({ event: { name: "task/submitted", data: {} }, events: [], steps: {}, ctx: { run_id: "x", attempt: 0 } });
    const target = `${system.appUrl}/api/inngest?fnId=agent-control-plane-run-task&stepId=step`;
    const unsigned = await fetch(target, { method: "POST", headers: { "content-type": "application/json" }, body: call });
    expect(unsigned.status).toBe(401);
    const wrongKey = await fetch(target, {
      method: "POST",
      headers: { "content-type": "application/json", "x-inngest-signature": signature(call, "00".repeat(32)) },
      body: call,
    });
    expect(wrongKey.status).toBe(401);

    // … and the engine refuses an event without its event key.
    const event = JSON.stringify({ name: "task/followup", data: { taskId: "none" } });
    expect((await fetch(`${system.inngestUrl}/e/not-the-key`, { method: "POST", body: event })).status).toBe(401);
    expect((await fetch(`${system.inngestUrl}/e/${keys.eventKey}`, { method: "POST", body: event })).status).toBe(200);
  });

  it("is restarted after SIGKILL, and a task it was running when killed finishes, and so does one queued behind it", async () => {
    const gate = newGate("Across an engine restart");
    const running = await runTask(gate.prompt);
    await untilAgentWaits(system, running);
    const queued = await runTask(newGate("Queued across an engine restart", true).prompt);
    const watch = await watchTask(system, queued);
    try {
      await watch.until((t) => t.status === "queued" && t.steps.some((s) => s.step === "node_selection" && /MAX_NODES_PER_USER/.test(s.detail ?? "")), 60_000, "the second task to queue");
    } finally {
      watch.close();
    }

    const restarted = system.restarted("engine");
    process.kill(system.pids().engine!, "SIGKILL");
    const restart = await restarted;
    expect(restart.error).toBeUndefined();
    gate.open();
    // The engine restores both runs from its snapshot without what they waited on: the running one
    // is re-driven once its agent has ended, the queued one once it is past its promise to look again.
    const [first, second] = await Promise.all([untilFinished(system, running, 180_000), untilFinished(system, queued, 240_000)]);
    expect(first.done.status, first.done.error ?? "").toBe("completed");
    expect(second.done.status, second.done.error ?? "").toBe("completed");
    // Its state is on disk.
    expect(fs.readdirSync(path.join(system.dataDir, "engine", "state")).length).toBeGreaterThan(0);
  }, 360_000);
});
