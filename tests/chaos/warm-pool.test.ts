/**
 * Chaos with the warm pool: the app, the engine, the whole system or a node's daemon killed while a
 * task waits at each stage; the app held down past the engine's retries; a warm node dead before it
 * is chosen. Shared settings and helpers: scenario.ts.
 */
import { spawnSync } from "node:child_process";
import net from "node:net";
import { expect } from "vitest";
import { eq } from "drizzle-orm";
import { tasks } from "@/db/schema";
import { workspaceReady } from "@/lib/contracts/events";
import { untilFinished } from "../harness/live-client";
import type { TestSystem } from "../harness/test-system";
import { record } from "./report";
import { chaosRun, daemonOf, each, gatedTask, killApp, killEngine, MAX_PER_NODE, reportAfterAll, scenarios, untilStage } from "./scenario";
import { verifyRun } from "./verify";

reportAfterAll("warm-pool");

/**
 * Keeps the app down for as long as `hold` runs: kills it and takes its port first, so every
 * restart the runner tries fails to listen and backs off, and whatever reaches the port (the
 * engine calling a step) has its connection reset. Then frees the port; the next try comes back.
 */
async function holdAppDown(system: TestSystem, hold: () => Promise<void>) {
  const port = Number(new URL(system.appUrl).port);
  const restarted = system.restarted("app");
  process.kill(-system.pids().app!, "SIGKILL");
  const blocker = net.createServer((socket) => socket.destroy());
  // The killed app's socket is gone once the kernel has reaped it: moments after the signal.
  for (let tries = 0; ; tries++) {
    const listening = await new Promise<boolean>((resolve) => {
      blocker.once("error", () => resolve(false));
      blocker.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (listening) break;
    if (tries > 200) throw new Error(`port ${port} stayed taken after the app was killed`);
    await new Promise((r) => setTimeout(r, 10));
  }
  try {
    await hold();
  } finally {
    await new Promise((resolve) => blocker.close(resolve));
  }
  await restarted;
}

/** The engine's own record of a run, from its dashboard API (an oracle independent of our engine client). */
async function engineRunStatus(system: TestSystem, runId: string): Promise<string | undefined> {
  const query = `{ functionRun(query: { workspaceId: "local", functionRunId: "${runId}" }) { status } }`;
  const response = await fetch(`${system.inngestUrl}/v0/gql`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ query }) });
  const body = (await response.json()) as { data?: { functionRun?: { status?: string } } };
  return body.data?.functionRun?.status;
}

scenarios("with the warm pool", { NODE_WARM_TIMEOUT: "10m" }, (system) => {
  each("the app killed while the workspace is set up", () =>
    chaosRun(system(), "app killed at workspace_ready", { stage: "workspace_ready", hold: "setup", kill: () => killApp(system()) }),
  );
  each("the app killed while the agent works", () =>
    chaosRun(system(), "app killed at running", { stage: "running", hold: "agent", kill: () => killApp(system()) }),
  );
  each("the app killed in the middle of a step", () =>
    chaosRun(system(), "app killed mid-step (agent_session)", { stage: "agent_session", hold: "agent", kill: () => killApp(system()) }),
  );
  each("the app down for longer than the engine retries a step", async () => {
    // The run fails inside the engine (each retry of its step finds the app gone), and so does its
    // failure handler: only the reconciler can notice, from the engine's record of the run.
    const task = gatedTask(system(), "setup");
    const taskId = await task.submit();
    await untilStage(system(), taskId, "workspace_ready");
    const [before] = await system().database.db.select().from(tasks).where(eq(tasks.id, taskId));
    const killedAt = Date.now();
    await holdAppDown(system(), async () => {
      // As if a callback was recorded just before the app died: its wake makes the engine call a step.
      const wake = await fetch(`${system().inngestUrl}/e/chaos`, { method: "POST", body: JSON.stringify(workspaceReady.create({ taskId, workspaceId: before!.workspaceId! })) });
      expect(wake.ok).toBe(true);
      const deadline = Date.now() + 60_000;
      while ((await engineRunStatus(system(), before!.runId!)) !== "FAILED") {
        if (Date.now() > deadline) throw new Error(`the engine never gave up on run ${before!.runId} while the app was down`);
        await new Promise((r) => setTimeout(r, 200)); // polling the engine's record: nothing to await
      }
    });
    task.open();
    const { endedAt } = await untilFinished(system(), taskId, 120_000);
    const [after] = await system().database.db.select().from(tasks).where(eq(tasks.id, taskId));
    expect(after!.runGeneration).toBeGreaterThan(before!.runGeneration);
    const result = await verifyRun(system(), [taskId], { maxPerNode: MAX_PER_NODE });
    record("app down past the step retries", { ...result, recoverMs: endedAt - killedAt });
    expect(result.problems).toEqual([]);
  });
  each("the engine killed while the workspace is set up", () =>
    chaosRun(system(), "engine killed at workspace_ready", { stage: "workspace_ready", hold: "setup", kill: () => killEngine(system()) }),
  );
  each("the engine killed while the agent works", () =>
    chaosRun(system(), "engine killed at running", { stage: "running", hold: "agent", kill: () => killEngine(system()) }),
  );
  each("the whole system stopped and started again mid-run", () =>
    chaosRun(system(), "app and engine restarted at running", { stage: "running", hold: "agent", kill: () => system().restart() }),
  );
  each("the vm-agent killed mid-provisioning", () =>
    chaosRun(system(), "vm-agent killed at workspace_ready", {
      stage: "workspace_ready",
      hold: "setup",
      kill: async (t) => void process.kill(daemonOf(system(), t.node!.id).pid, "SIGKILL"),
    }),
  );
  each("the vm-agent killed mid-run", () =>
    chaosRun(system(), "vm-agent killed at running", {
      stage: "running",
      hold: "agent",
      kill: async (t) => void process.kill(daemonOf(system(), t.node!.id).pid, "SIGKILL"),
    }),
  );
  each("a warm node's daemon dead before selection (a reboot)", async () => {
    const first = gatedTask(system(), "none");
    const firstId = await first.submit();
    const { done } = await untilFinished(system(), firstId, 90_000);
    const killedAt = Date.now();
    process.kill(-daemonOf(system(), done.node!.id).pid, "SIGKILL");
    spawnSync("tmux", ["-L", `acp-${done.node!.id}`, "kill-server"]);
    const next = gatedTask(system(), "none");
    const nextId = await next.submit();
    const { endedAt, done: after } = await untilFinished(system(), nextId, 90_000);
    expect(after.node?.id).not.toBe(done.node!.id);
    const result = await verifyRun(system(), [firstId, nextId], { maxPerNode: MAX_PER_NODE });
    record("warm node dead before selection", { ...result, recoverMs: endedAt - killedAt });
    expect(result.problems).toEqual([]);
  });
});