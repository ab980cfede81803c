/**
 * The vm-agent's entry point: read the configuration, adopt what a previous run left, serve the
 * API, tell the control plane the node is ready, then send heartbeats. SIGTERM / SIGINT detach and exit; agents keep
 * running in tmux for the next start to adopt.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { CONTRACT_VERSION, callbackPaths } from "../lib/contracts/vm-agent";
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
let agent: ReturnType<typeof createVmAgent>;
let port: number;
try {
  agent = createVmAgent({ config, outbox, log });
  ({ port } = await agent.listen());
} catch (error) {
  log("error", `vm-agent could not start: ${(error as Error).message}`);
  process.exit(1);
}
const isolation = agent.isolation();
log(isolation.mode === "users" ? "info" : "warn", "vm-agent listening", { nodeId: config.NODE_ID, host: config.VM_AGENT_HOST, port, workspaceUsers: isolation.mode, ...(isolation.reason ? { why: isolation.reason } : {}) });

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log("info", "vm-agent stopping", { signal });
    void agent.close().then(() => process.exit(0));
  });
}

const messageId = randomUUID();
outbox.enqueue(messageId, callbackPaths.nodeReady(config.NODE_ID), config.NODE_CALLBACK_TOKEN, {
  endpoint: `http://${config.VM_AGENT_HOST}:${port}`,
  version: VM_AGENT_VERSION,
  contractVersion: CONTRACT_VERSION,
  isolation,
});
// The first heartbeat follows the ready callback: the control plane learns the endpoint, then the load.
agent.startHeartbeats();
