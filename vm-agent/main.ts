/**
 * The vm-agent's entry point: read the configuration, serve the API, tell the control plane the
 * node is ready. SIGTERM / SIGINT stop every agent and exit.
 */
import { CONTRACT_VERSION, callbackPaths } from "../lib/contracts/vm-agent";
import { callbackClient } from "./callbacks";
import { parseVmAgentConfig } from "./config";
import { jsonLog } from "./log";
import { createVmAgent, VM_AGENT_VERSION } from "./server";

let config;
try {
  config = parseVmAgentConfig(process.env);
} catch (error) {
  jsonLog("error", (error as Error).message);
  process.exit(1);
}

const sendCallback = callbackClient(
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
const agent = createVmAgent({ config, sendCallback, log: jsonLog });
const { port } = await agent.listen();
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

const ready = await sendCallback(callbackPaths.nodeReady(config.NODE_ID), config.NODE_CALLBACK_TOKEN, {
  endpoint: `http://${config.VM_AGENT_HOST}:${port}`,
  version: VM_AGENT_VERSION,
  contractVersion: CONTRACT_VERSION,
});
if (!ready.delivered) jsonLog("error", "the control plane did not take the ready callback", { error: ready.error });
