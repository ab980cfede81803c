/**
 * The self-hosted engine (`ENGINE_MODE=self-hosted`: `inngest start` with a signing key and an
 * event key, its state on disk, the app with INNGEST_DEV=0): a task runs through it; requests that
 * are not signed with the key are refused on both sides (the app refuses the engine's calls, the
 * engine refuses events without its event key); the keys stay out of every argument list; and a
 * task whose engine was killed mid-run finishes: the runner restarts the engine, which restores the
 * run from its snapshot but never resumes it, and the supervisor re-drives it (RUN_STALL_AFTER).
 */
import { createHmac } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeRepo } from "../harness/git";
import { untilFinished, watchTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;
let keys: { signingKey: string; eventKey: string };

beforeAll(async () => {
  system = await startTestSystem({ ENGINE_MODE: "self-hosted", RUN_STALL_AFTER: "10s" });
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

    const taskId = await runTask("Through the self-hosted engine");
    const { done } = await untilFinished(system.appUrl, taskId, 120_000);
    expect(done.status, done.error ?? "").toBe("completed");
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
    const event = JSON.stringify({ name: "task/wake", data: { taskId: "none" } });
    expect((await fetch(`${system.inngestUrl}/e/not-the-key`, { method: "POST", body: event })).status).toBe(401);
    expect((await fetch(`${system.inngestUrl}/e/${keys.eventKey}`, { method: "POST", body: event })).status).toBe(200);
  });

  it("is restarted after SIGKILL, and a task it was running when killed finishes", async () => {
    const taskId = await runTask("Across an engine restart");
    const watch = await watchTask(system.appUrl, taskId);
    try {
      await watch.until((t) => t.status === "in_progress", 60_000, "the task to start");
    } finally {
      watch.close();
    }
    const restarted = system.restarted("engine");
    process.kill(system.pids().engine!, "SIGKILL");
    const restart = await restarted;
    expect(restart.error).toBeUndefined();
    // The engine restores the run from its snapshot without what it waited on; the run is re-driven.
    const { done } = await untilFinished(system.appUrl, taskId, 180_000);
    expect(done.status, done.error ?? "").toBe("completed");
    // Its state is on disk.
    expect(fs.readdirSync(path.join(system.dataDir, "engine", "state")).length).toBeGreaterThan(0);
  }, 300_000);
});
