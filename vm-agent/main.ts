/**
 * The vm-agent's entry point: read the configuration, adopt what a previous run left, serve the
 * API, tell the control plane the node is ready. SIGTERM / SIGINT detach and exit; agents keep
 * running in tmux for the next start to adopt.
 */
import { randomUUID } from "node:crypto";
import path from "node:path";
import { CONTRACT_VERSION, callbackPaths } from "../lib/contracts/vm-agent";
import { parseVmAgentConfig } from "./config";
import { jsonLog } from "./log";
import { Outbox } from "./outbox";
import { createVmAgent, VM_AGENT_VERSION } from "./server";

let config;
try {
  config = parseVmAgentConfig(process.env);
} catch (error) {
  jsonLog("error", (error as Error).message);
  process.exit(1);
}

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
  jsonLog,
);
const agent = createVmAgent({ config, outbox, log: jsonLog });
let port: number;
try {
  ({ port } = await agent.listen());
} catch (error) {
  jsonLog("error", `vm-agent could not start: ${(error as Error).message}`);
  process.exit(1);
}
jsonLog("info", "vm-agent listening", { nodeId: config.NODE_ID, host: config.VM_AGENT_HOST, port });

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    jsonLog("info", "vm-agent stopping", { signal });
    void agent.close().then(() => process.exit(0));
  });
}

const messageId = randomUUID();
outbox.enqueue(messageId, callbackPaths.nodeReady(config.NODE_ID), config.NODE_CALLBACK_TOKEN, {
  endpoint: `http://${config.VM_AGENT_HOST}:${port}`,
  version: VM_AGENT_VERSION,
  contractVersion: CONTRACT_VERSION,
});
