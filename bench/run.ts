/**
 * `npm run bench`: end-to-end latency of the pipeline on the embedded defaults (PGlite, local
 * nodes, the `script` agent). Prints medians and worst cases; it asserts nothing.
 *   submit → completed:          POST /api/tasks until the task page shows `completed`
 *   /ready → agent started:      the node's /ready callback until the agent session was started on the node
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, startSystem, TEST_DIST_DIR } from "../scripts/system";
import { makeRepo } from "../tests/harness/git";
import { untilFinished } from "../tests/harness/live-client";

const RUNS = Number(process.env.BENCH_RUNS ?? 10);

const stats = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, worst: sorted[sorted.length - 1]!, runs: sorted.length };
};

buildApp();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-bench-"));
// A warm pool, as a user would run it: the first task pays for the node, the rest reuse it.
const system = await startSystem({ mode: "start", distDir: TEST_DIST_DIR, dataDir, logDir: path.join(dataDir, "logs"), log: () => undefined });
const submitToCompleted: number[] = [];
const readyToAgent: number[] = [];
let coldStart = 0;
try {
  for (let i = 0; i < RUNS + 1; i++) {
    const started = Date.now();
    const response = await fetch(`${system.appUrl}/api/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ repository: makeRepo(), prompt: `Benchmark change ${i}` }),
    });
    const { taskId } = (await response.json()) as { taskId: string };
    const { done } = await untilFinished(system.appUrl, taskId, 120_000);
    if (done.status !== "completed") throw new Error(`task ${taskId} ended ${done.status}: ${done.error}`);
    const elapsed = Date.now() - started;
    const ready = done.workspace?.readyAt;
    const agent = done.steps.find((s) => s.step === "agent_session")?.endedAt;
    if (i === 0) {
      coldStart = elapsed; // includes starting a node
      continue;
    }
    submitToCompleted.push(elapsed);
    if (ready && agent) readyToAgent.push(Date.parse(agent) - Date.parse(ready));
  }
  console.log(JSON.stringify({ coldStartMs: coldStart, submitToCompletedMs: stats(submitToCompleted), readyCallbackToAgentStartedMs: stats(readyToAgent) }, null, 2));
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
