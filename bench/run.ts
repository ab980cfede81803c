/**
 * `npm run bench`: end-to-end latency of the pipeline on the embedded defaults (PGlite, local
 * nodes, the `script` agent, the warm pool). Prints medians, p99 and worst cases; asserts nothing.
 *   submit → completed:            POST /api/tasks until the task page shows `completed`
 *   /ready → agent started:        the workspace's /ready callback until the agent session started
 *   completion → next step:        the agent's completion callback recorded until the run's next
 *                                  step started (50 tasks whose agent finishes at once: the case
 *                                  that stalled 31 s), beside the bare engine's event → step floor
 *   engine back → re-driven:       the engine killed while an agent works; from the restarted
 *                                  engine answering until the task's new run finished it
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, startSystem, TEST_DIST_DIR } from "../scripts/system";
import type { TaskDetail } from "../lib/contracts/api";
import { makeRepo } from "../tests/harness/git";
import { GATED_AGENT_COMMAND, newGate, untilAgentWaits } from "../tests/harness/gated-agent";
import { untilFinished } from "../tests/harness/live-client";
import { measureEngineFloor } from "./engine-floor";

const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const REDRIVES = Number(process.env.BENCH_REDRIVES ?? 5);

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { median: at(0.5), p99: at(0.99), worst: sorted[sorted.length - 1]!, runs: sorted.length };
};
const ms = (from: string | null | undefined, to: string | null | undefined) => (from && to ? Date.parse(to) - Date.parse(from) : undefined);

buildApp();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-bench-"));
const system = await startSystem({
  mode: "start",
  distDir: TEST_DIST_DIR,
  dataDir,
  logDir: path.join(dataDir, "logs"),
  log: () => undefined,
  env: { SCRIPT_AGENT_COMMAND: GATED_AGENT_COMMAND, SESSION_IDLE_TIMEOUT: "0" },
});

async function submit(prompt: string) {
  const response = await fetch(`${system.appUrl}/api/tasks`, {
    method: "POST",
    headers: { ...system.authHeaders, "content-type": "application/json" },
    body: JSON.stringify({ repository: makeRepo(), prompt }),
  });
  return ((await response.json()) as { taskId: string }).taskId;
}

const step = (task: TaskDetail, name: string) => task.steps.find((s) => s.step === name);

try {
  const submitToCompleted: number[] = [];
  const readyToAgent: number[] = [];
  const completionToNextStep: number[] = [];
  let coldStart = 0;
  for (let i = 0; i < RUNS + 1; i++) {
    const started = Date.now();
    const taskId = await submit(newGate(`Benchmark change ${i}`, true).prompt);
    const { done, endedAt } = await untilFinished(system, taskId, 120_000);
    if (done.status !== "completed") throw new Error(`task ${taskId} ended ${done.status}: ${done.error}`);
    if (i === 0) {
      coldStart = endedAt - started; // includes starting a node
      continue;
    }
    submitToCompleted.push(endedAt - started);
    const ready = ms(done.workspace?.readyAt, step(done, "agent_session")?.endedAt);
    if (ready !== undefined) readyToAgent.push(ready);
    // The completion callback recorded → the run's next step (the running step ends in it).
    const next = ms(done.session?.endedAt, step(done, "running")?.endedAt);
    if (next !== undefined) completionToNextStep.push(next);
  }
  const engineFloor = await measureEngineFloor(system.inngestUrl, 20);

  const redrive: number[] = [];
  for (let i = 0; i < REDRIVES; i++) {
    const gate = newGate(`Re-driven ${i}`);
    const taskId = await submit(gate.prompt);
    await untilAgentWaits(system, taskId);
    const restarted = system.restarted("engine");
    process.kill(system.pids().engine!, "SIGKILL");
    await restarted;
    const back = Date.now();
    gate.open();
    const { done, endedAt } = await untilFinished(system, taskId, 120_000);
    if (done.status !== "completed") throw new Error(`re-driven task ${taskId} ended ${done.status}: ${done.error}`);
    redrive.push(endedAt - back);
  }

  console.log(
    JSON.stringify(
      {
        coldStartMs: coldStart,
        submitToCompletedMs: stats(submitToCompleted),
        readyCallbackToAgentStartedMs: stats(readyToAgent),
        completionCallbackToNextStepMs: stats(completionToNextStep),
        bareEngineEventToStepMs: stats(engineFloor),
        engineBackToRedrivenTaskCompletedMs: stats(redrive),
      },
      null,
      2,
    ),
  );
} finally {
  await system.stop();
  for (const dir of fs.existsSync(path.join(dataDir, "nodes")) ? fs.readdirSync(path.join(dataDir, "nodes")) : []) {
    const pidFile = path.join(dataDir, "nodes", dir, "vm-agent.pid");
    if (fs.existsSync(pidFile)) {
      try {
        process.kill(-Number(fs.readFileSync(pidFile, "utf8")), "SIGKILL");
      } catch {
        // Already gone.
      }
    }
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}
