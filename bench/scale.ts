/**
 * Scale, simulated on this machine (issue 11 part 10): SCALE_TASKS tasks (100) at once for one
 * person whose nodes are Hetzner servers, at most SCALE_NODES (10) of them (the double's server
 * quota and MAX_NODES_PER_USER), each a vm-agent installed from the rendered cloud-init and run as
 * a local process on its own loopback address, with the warm pool on. Checks that every task
 * completed, that no node held more than MAX_WORKSPACES_PER_NODE workspaces at once and that the
 * double never saw more servers than its quota; reports the throughput and the engine's calls to
 * the app per task (each call runs one step, or plans the next ones). Runs with `npm run bench`.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildApp, freePort, startSystem, TEST_DIST_DIR } from "../scripts/system";
import { loopbackCertificate } from "../vm-agent/test-support";
import { startHetznerCloudDouble } from "../tests/doubles/hetzner-cloud";
import { startBalancer } from "../tests/harness/balancer";
import { cloudMachines } from "../tests/harness/cloud-machines";
import { makeRepo } from "../tests/harness/git";
import { untilFinished } from "../tests/harness/live-client";

const TASKS = Number(process.env.SCALE_TASKS ?? 100);
const NODES = Number(process.env.SCALE_NODES ?? 10);
const PER_NODE = Number(process.env.SCALE_PER_NODE ?? 3);
const TOKEN = "scale-project-token";

/** The most intervals that overlap at one instant. */
function peakOverlap(intervals: { from: number; to: number }[]) {
  const edges = intervals.flatMap((i) => [{ at: i.from, delta: 1 }, { at: i.to, delta: -1 }]).sort((a, b) => a.at - b.at || a.delta - b.delta);
  let now = 0;
  let peak = 0;
  for (const edge of edges) peak = Math.max(peak, (now += edge.delta));
  return peak;
}

/** Runs the app's supervisor re-drove (its log): ones the engine kept without running, and ones it lost. */
function supervisorRedrives(logFile: string) {
  const counts = { keptWithoutRunning: 0, lostByEngine: 0 };
  for (const line of fs.readFileSync(logFile, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const entry = JSON.parse(line) as { msg?: string; redriven?: unknown[] };
    if (entry.msg === "re-drove runs the engine keeps without running them") counts.keptWithoutRunning += entry.redriven?.length ?? 0;
    else if (/^reconciler: task \S+ redriven$/.test(entry.msg ?? "")) counts.lostByEngine++;
  }
  return counts;
}

buildApp();
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-scale-"));
const certificate = loopbackCertificate(fs.mkdtempSync(path.join(os.tmpdir(), "acp-scale-ca-")));
const machines = cloudMachines({ caFile: certificate.certFile });
const hetzner = await startHetznerCloudDouble({ tokens: [TOKEN], serverLimit: NODES, onServerCreated: machines.onServerCreated, onServerDeleted: machines.onServerDeleted });
const appPort = await freePort();
const front = await startBalancer([`http://127.0.0.1:${appPort}`], { key: certificate.key, cert: certificate.cert });
// The engine's calls pass through a plain-HTTP front of their own (the engine trusts no test CA), where they are counted.
const engineFront = await startBalancer([`http://127.0.0.1:${appPort}`]);
const system = await startSystem({
  mode: "start",
  distDir: TEST_DIST_DIR,
  dataDir,
  appPort,
  logDir: path.join(dataDir, "logs"),
  log: () => undefined,
  env: {
    APP_URL: front.url,
    // The app trusts its own public address too (the supervisor registers through it).
    NODE_EXTRA_CA_CERTS: certificate.certFile,
    INNGEST_SERVE_ORIGIN: engineFront.url,
    NODE_PROVIDER: "hetzner",
    HETZNER_API_URL: hetzner.url,
    CONTROL_PLANE_SOURCE_IPS: "127.0.0.1/32",
    NODE_AGENT_PORT: String(await freePort()),
    MAX_NODES_PER_USER: String(NODES),
    MAX_WORKSPACES_PER_NODE: String(PER_NODE),
    MAX_ACTIVE_TASKS_PER_USER: String(TASKS),
    MAX_TASK_SUBMISSIONS_PER_MINUTE: String(TASKS),
    // Every node installs from this machine's one address.
    VM_AGENT_DOWNLOADS_PER_MINUTE: String(Math.max(60, NODES * 4)),
    NODE_WARM_TIMEOUT: "10m",
    SESSION_IDLE_TIMEOUT: "0",
    // A burst on two cores delays heartbeats by seconds; a late one is not a lost node.
    HEARTBEAT_STALE_AFTER: "120s",
    NODE_LOST_AFTER: "120s",
  },
});

try {
  const stored = await fetch(`${system.appUrl}/api/secrets/HETZNER_TOKEN`, { method: "PUT", headers: { ...system.authHeaders, "content-type": "application/json" }, body: JSON.stringify({ value: TOKEN }) });
  if (!stored.ok) throw new Error(`storing the Hetzner token answered ${stored.status}`);
  const started = Date.now();
  const taskIds = await Promise.all(
    Array.from({ length: TASKS }, async (_, i) => {
      const response = await fetch(`${system.appUrl}/api/tasks`, { method: "POST", headers: { ...system.authHeaders, "content-type": "application/json" }, body: JSON.stringify({ repository: makeRepo(), prompt: `Scale task ${i}` }) });
      if (response.status !== 202) throw new Error(`task ${i} was refused: ${response.status} ${await response.text()}`);
      return ((await response.json()) as { taskId: string }).taskId;
    }),
  );
  const finished = await Promise.all(taskIds.map((taskId) => untilFinished(system, taskId, 1_800_000)));
  const elapsedMs = Math.max(...finished.map((f) => f.endedAt)) - started;

  const failed = finished.filter((f) => f.done.status !== "completed").map((f) => `${f.done.id}: ${f.done.status} ${f.done.error ?? ""}`);
  // Capacity, from what the task pages say: each workspace held its node from creation to cleanup.
  const byNode = new Map<string, { from: number; to: number }[]>();
  for (const { done } of finished) {
    const node = done.node?.id;
    const from = done.steps.find((s) => s.step === "workspace_creation")?.startedAt;
    if (!node || !from || !done.cleanedUpAt) continue;
    byNode.set(node, [...(byNode.get(node) ?? []), { from: Date.parse(from), to: Date.parse(done.cleanedUpAt) }]);
  }
  const peakPerNode = Math.max(...[...byNode.values()].map(peakOverlap));
  const engineCalls = engineFront.served.filter((r) => r.method === "POST" && r.path === "/api/inngest" && r.query.includes("run-task")).length;
  const result = {
    tasks: TASKS,
    completed: finished.length - failed.length,
    failed,
    nodesUsed: byNode.size,
    serversCreated: hetzner.created,
    peakServers: hetzner.peakServers,
    serverQuota: NODES,
    peakWorkspacesOnOneNode: peakPerNode,
    maxWorkspacesPerNode: PER_NODE,
    elapsedMs,
    tasksPerMinute: Number(((TASKS / elapsedMs) * 60_000).toFixed(1)),
    engineCallsPerTask: Number((engineCalls / TASKS).toFixed(1)),
    machineFailures: machines.failures.map(String),
    redrives: supervisorRedrives(path.join(dataDir, "logs", "next.log")),
  };
  console.log(JSON.stringify(result, null, 2));
  const problems = [
    ...failed,
    ...(hetzner.peakServers > NODES ? [`the double saw ${hetzner.peakServers} servers, over its quota of ${NODES}`] : []),
    ...(peakPerNode > PER_NODE ? [`a node held ${peakPerNode} workspaces at once, over ${PER_NODE}`] : []),
    ...machines.failures.map(String),
  ];
  if (problems.length) {
    console.error(`scale: ${problems.length} problem(s):\n${problems.join("\n")}`);
    process.exitCode = 1;
  }
} finally {
  await system.stop();
  await machines.stopAll();
  await hetzner.close();
  await front.close();
  await engineFront.close();
  if (!process.env.KEEP_TEST_DATA) fs.rmSync(dataDir, { recursive: true, force: true });
}
