/**
 * vm-agent benchmarks: `start` request → agent process running in tmux (median and worst of 20),
 * and the daemon's resident memory idle and with 3 sessions. Runs the real daemon as its own
 * process against a loopback receiver; prints figures, asserts nothing.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { signNodeCallbackToken, signNodeManagementToken } from "../lib/auth/tokens";
import { pinnedFetch } from "../lib/nodes/pinned-tls";
import { makeRepo } from "../tests/harness/git";
import { defaultTmuxSocket } from "../lib/contracts/node-layout";
import { inheritedEnvironment } from "../vm-agent/config";
import { Tmux } from "../vm-agent/runtime/tmux";
import { addressedWorkspace, startReceiver, testKey, waitForFile } from "../vm-agent/test-support";

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const receiver = await startReceiver();
const { key, publicJwk } = await testKey();
const nodeId = `bench-${process.pid}`;
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-bench-"));
const pidDir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-bench-pids-"));
const daemonEnv: Record<string, string | undefined> = {
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  VM_AGENT_PORT: "0",
  NODE_ID: nodeId,
  CONTROL_PLANE_URL: receiver.url,
  NODE_CALLBACK_TOKEN: await signNodeCallbackToken(key, { nodeId }, 600_000),
  CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(publicJwk),
  VM_AGENT_WORK_DIR: workDir,
  // The agent announces itself by writing its pid where the benchmark watches, then waits.
  SCRIPT_AGENT_COMMAND: `echo $$ > "${pidDir}/$AGENT_SESSION_ID"; exec sleep 600`,
};
const child = spawn(process.execPath, ["--import", "tsx", path.resolve(import.meta.dirname, "../vm-agent/main.ts")], {
  stdio: "ignore",
  env: daemonEnv as NodeJS.ProcessEnv, // the daemon's whole environment, NODE_ENV deliberately absent
});
const ready = (await receiver.next(/\/api\/nodes\/.*\/ready$/)).body;
const endpoint = String(ready.endpoint);
// As the control plane calls it: over HTTPS, pinned to the certificate the ready callback reported.
const node = { id: nodeId, certificateFingerprint: String(ready.certificateFingerprint) };
const call = async (method: string, pathname: string, body?: unknown) => {
  const token = await signNodeManagementToken(key, { nodeId, workspaceId: addressedWorkspace(pathname, body) }, 60_000);
  const response = await pinnedFetch(node, new URL(pathname, endpoint), { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
  if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${await response.text()}`);
};
const rssKb = () => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, "utf8"))?.[1] ?? 0);
try {
  const repo = makeRepo();
  await call("POST", "/workspaces", { workspaceId: "w_bench", taskId: "t", repository: repo, branch: "agents/bench-1", callbackToken: "cb" });
  await receiver.next(/w_bench\/ready$/);
  const idleRss = rssKb();
  const timings: number[] = [];
  let withThree = 0;
  for (let i = 0; i < RUNS; i++) {
    const sid = `s_${i}`;
    const started = performance.now();
    await call("POST", `/workspaces/w_bench/agent-sessions/${sid}/start`, { agent: "script", prompt: "bench", callbackToken: "cb" });
    await waitForFile(path.join(pidDir, sid));
    timings.push(performance.now() - started);
    if (i === 2) withThree = rssKb();
  }
  timings.sort((a, b) => a - b);
  console.log(
    JSON.stringify(
      {
        startToAgentRunningMs: { median: Math.round(timings[Math.floor(RUNS / 2)]! * 10) / 10, worst: Math.round(timings[RUNS - 1]! * 10) / 10, runs: RUNS },
        vmAgentRssMiB: { idle: Math.round(idleRss / 102.4) / 10, withThreeSessions: Math.round(withThree / 102.4) / 10 },
      },
      null,
      2,
    ),
  );
} finally {
  child.kill("SIGTERM");
  await new Tmux(defaultTmuxSocket(nodeId), inheritedEnvironment(process.env)).killServer();
  await receiver.close();
  fs.rmSync(workDir, { recursive: true, force: true });
  fs.rmSync(pidDir, { recursive: true, force: true });
}
