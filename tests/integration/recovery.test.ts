/**
 * Durability against the engine and the app: runs the engine lost are re-driven from the database
 * and finish with every side effect done once; a completion never waits for a re-check slice.
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { agentOutput, errors, workspaces } from "@/db/schema";
import { makeRepo } from "../harness/git";
import { GATED_AGENT_COMMAND, newGate, untilAgentWaits } from "../harness/gated-agent";
import { untilFinished, watchTask } from "../harness/live-client";
import { startTestSystem, type TestSystem } from "../harness/test-system";

let system: TestSystem;

beforeAll(async () => {
  system = await startTestSystem({
    SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND,
    // A lost completion would show as a 10-minute stall: nothing here may wait for a slice.
    READY_RECHECK_INTERVAL: "10m",
    // Lost runs are found at once, not by the periodic pass: an engine restart here takes about a second.
    RECONCILE_INTERVAL: "10m",
    NODE_MONITOR_INTERVAL: "3s",
  });
});
afterAll(async () => system?.stop());

async function submit(prompt: string) {
  const { status, body } = await system.api("POST", "/api/tasks", { repository: makeRepo(), prompt });
  expect(status, JSON.stringify(body)).toBe(202);
  return body.taskId as string;
}


function expectOnce(taskId: string, workspaceId: string | undefined) {
  const effects = system.sideEffects();
  expect(workspaceId).toBeDefined();
  expect(effects.workspaces.get(workspaceId!), `workspace ${workspaceId} created`).toBe(1);
  const sessionId = `s_${workspaceId!.replace(/^w_/, "")}`;
  expect(effects.launches.get(sessionId), `agent ${sessionId} started`).toBe(1);
}

async function recoveries(taskId: string) {
  return (await system.database.db.select().from(errors).where(eq(errors.taskId, taskId))).filter((e) => e.kind === "recovery");
}

describe("a run the engine lost", () => {
  it("is re-driven when the engine is killed while the agent works, and the task completes with one workspace and one agent start", async () => {
    const gate = newGate("Engine dies mid-run");
    const taskId = await submit(gate.prompt);
    await untilAgentWaits(system, taskId);
    const restarted = system.restarted("engine");
    process.kill(system.pids().engine!, "SIGKILL");
    await restarted;
    gate.open();
    const { done } = await untilFinished(system, taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expect(done.pushed).toBe(true);
    expectOnce(taskId, done.workspace?.id);
    expect((await recoveries(taskId)).map((e) => e.message).join("\n")).toMatch(/re-driven as run generation 1/);
  });

  it("starts a task submitted right before the engine died", async () => {
    const gate = newGate("Submitted before the engine died", true);
    const taskId = await submit(gate.prompt);
    const restarted = system.restarted("engine");
    process.kill(system.pids().engine!, "SIGKILL");
    await restarted;
    const { done } = await untilFinished(system, taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expectOnce(taskId, done.workspace?.id);
    // Known lost at once (the new engine does not have its event or run), not after the grace period.
    expect((await recoveries(taskId)).map((e) => e.message).join("\n")).toMatch(/engine no longer has (its trigger event|run)/);
  });

  it("finishes a task whose whole system (app and engine) was stopped and started again mid-run", async () => {
    const gate = newGate("The whole system restarts");
    const taskId = await submit(gate.prompt);
    await untilAgentWaits(system, taskId);
    await system.restart();
    gate.open();
    const { done } = await untilFinished(system, taskId, 90_000);
    expect(done.status, done.error ?? "").toBe("completed");
    expectOnce(taskId, done.workspace?.id);
  });
});

describe("waits", () => {
  it("see a completion that lands at once without waiting for a re-check slice (10 minutes here)", async () => {
    const gate = newGate("Finishes at once", true);
    const taskId = await submit(gate.prompt);
    const { done } = await untilFinished(system, taskId, 60_000);
    expect(done.status, done.error ?? "").toBe("completed");
    const running = done.steps.find((s) => s.step === "running");
    // The slice is 10 minutes: any wait on one would show here as minutes, not seconds.
    expect(running?.durationMs).toBeLessThan(30_000);
  });
});

describe("agent output", () => {
  it("never breaks the pipeline: a 1 MiB line, NUL bytes, invalid UTF-8 and 20,000 lines are stored and the task completes", async () => {
    const taskId = await submit(newGate("NOISY output", true).prompt);
    const { done } = await untilFinished(system, taskId, 120_000);
    expect(done.status, done.error ?? "").toBe("completed");
    const rows = await system.database.db.select().from(agentOutput).where(eq(agentOutput.taskId, taskId));
    const lines = rows.sort((a, b) => a.offset - b.offset).flatMap((r) => r.lines);
    expect(lines.find((l) => l.startsWith("xxxx"))).toMatch(/… \[line cut: 1048576 bytes\]$/);
    expect(lines).toContain("a␀nul");
    expect(lines.some((l) => l.includes("\uFFFD") && l.includes("bad utf-8"))).toBe(true);
    expect(lines.filter((l) => /^\d+$/.test(l))).toHaveLength(20_000);
    expect(lines[lines.length - 1]).toBe("agent done");
  });
});

/** Processes working inside `dir` (their cwd is there). */
function processesIn(dir: string): number[] {
  return fs.readdirSync("/proc").filter((p) => /^\d+$/.test(p)).filter((p) => {
    try {
      return fs.readlinkSync(`/proc/${p}/cwd`).startsWith(dir);
    } catch {
      return false;
    }
  }).map(Number);
}

describe("a cancel", () => {
  it.each(["workspace_creation", "workspace_ready"] as const)("that races %s leaves nothing running and cleans up", async (stage) => {
    const gate = newGate("Cancelled while the workspace is made");
    const repo = makeRepo({ ".agent/setup.sh": `while [ ! -e '${gate.prompt.split(" ")[0]}' ]; do sleep 0.05; done\n` });
    const { body } = await system.api("POST", "/api/tasks", { repository: repo, prompt: gate.prompt });
    const watch = await watchTask(system, body.taskId);
    await watch.until((t) => t.executionStep === stage, 60_000, stage);
    watch.close();
    expect((await system.api("POST", `/api/tasks/${body.taskId}/cancel`)).status).toBe(202);
    const { done } = await untilFinished(system, body.taskId, 60_000);
    expect(done.status).toBe("cancelled");
    expect(done.cleanedUpAt).not.toBeNull();
    const held = await system.database.db.select().from(workspaces).where(eq(workspaces.taskId, body.taskId));
    for (const w of held) {
      expect(w.status).toBe("stopped");
      expect(processesIn(path.join(system.dataDir, "nodes", w.nodeId, "work", "workspaces", w.id))).toEqual([]);
    }
    gate.open();
  });
});
