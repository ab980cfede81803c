/**
 * The vm-agent's entry point: read the configuration, adopt what a previous run left, serve the
 * API, tell the control plane the node is ready, then send heartbeats. SIGTERM / SIGINT detach and exit; agents keep
 * running in tmux for the next start to adopt.
 */
import path from "node:path";
import { CONTRACT_VERSION, callbackPaths, nodeEndpoint, type NodeReadyCallback } from "../lib/contracts/vm-agent";
import { parseVmAgentConfig } from "./config";
import { fileLog, jsonLog, RotatingFile, type Log } from "./log";
import { Outbox } from "./outbox";
import { createVmAgent, VM_AGENT_VERSION } from "./server";

let config;
try {
  config = parseVmAgentConfig(process.env);
} catch (error) {
  jsonLog("error", (error as Error).message);
  process.exit(1);
}

// Configuration errors went to stdout above; from here on the log goes where it is configured.
const log: Log = config.VM_AGENT_LOG_FILE
  ? fileLog(new RotatingFile(config.VM_AGENT_LOG_FILE, config.VM_AGENT_LOG_MAX_BYTES, config.VM_AGENT_LOG_KEEP))
  : jsonLog;

const outbox = new Outbox(
  path.join(config.VM_AGENT_WORK_DIR, "outbox"),
  config.CONTROL_PLANE_URL,
  {
    maxAttempts: config.CALLBACK_MAX_ATTEMPTS,
    maxElapsedMs: config.CALLBACK_MAX_ELAPSED,
    baseDelayMs: config.CALLBACK_BASE_DELAY,
    maxDelayMs: config.CALLBACK_MAX_DELAY,
    requestTimeoutMs: config.CALLBACK_REQUEST_TIMEOUT,
  },
  log,
);
// One ready report at a time, under one id: a previous run's that is still undelivered names a port
// or a certificate this run may no longer serve, and arriving after this run's it would pin a stale
// one. It is dropped before the outbox resumes the rest; this run's own is sent once it listens.
const READY_MESSAGE_ID = "node-ready";
outbox.discard(READY_MESSAGE_ID);
let agent: ReturnType<typeof createVmAgent>;
let port: number;
let certificateFingerprint: string;
try {
  agent = createVmAgent({ config, outbox, log });
  ({ port, certificateFingerprint } = await agent.listen());
} catch (error) {
  log("error", `vm-agent could not start: ${(error as Error).message}`);
  process.exit(1);
}
const isolation = agent.isolation();
log(isolation.mode === "users" ? "info" : "warn", "vm-agent listening", { nodeId: config.NODE_ID, host: config.VM_AGENT_HOST, port, certificateFingerprint, workspaceUsers: isolation.mode, ...(isolation.reason ? { why: isolation.reason } : {}) });

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log("info", "vm-agent stopping", { signal });
    void agent.close().then(() => process.exit(0));
  });
}

outbox.enqueue(READY_MESSAGE_ID, callbackPaths.nodeReady(config.NODE_ID), config.NODE_CALLBACK_TOKEN, {
  endpoint: nodeEndpoint(config.VM_AGENT_PUBLIC_HOST ?? config.VM_AGENT_HOST, port),
  certificateFingerprint,
  version: VM_AGENT_VERSION,
  contractVersion: CONTRACT_VERSION,
  isolation,
} satisfies NodeReadyCallback);
// The first heartbeat follows the ready callback: the control plane learns the endpoint, then the load.
agent.startHeartbeats();
