/**
 * A machine's registration, as its installer asks for it: spend the token, create the node, and
 * answer the installer's parameters (vm-agent/install/install.sh reads them): the node's id and
 * callback token, the control plane's public key, the vm-agent download (and the control plane's
 * Node, for a machine without Node 20) with their sha256, the port to serve on and the host to
 * report. As `KEY='value'` lines, which the installer reads without a JSON parser.
 */
import type { Executor } from "@/db/client";
import type { KeyPair } from "../auth/keys";
import { signNodeCallbackToken } from "../auth/tokens";
import type { Config } from "../config";
import type { RegisterMachineRequest } from "../contracts/api";
import type { VmAgentDownloads } from "../contracts/vm-agent-downloads";
import { installParameters, parametersFile } from "../nodes/cloud-init";
import { machineHost } from "./machine-host";
import { checkMachineRegistration, consumeMachineRegistration } from "./registrations";

export type RegisterMachineDeps = {
  db: Executor;
  keys: KeyPair;
  config: Pick<Config, "APP_URL" | "NODE_AGENT_PORT" | "MACHINE_CALLBACK_TOKEN_TTL">;
  /** What the machine downloads (built before the token is spent, so a failing build leaves it good). */
  downloads: () => Promise<VmAgentDownloads>;
};

export type MachineRegistrationAnswer = { nodeId: string; parameters: Record<string, string>; text: string };

export async function registerMachine(deps: RegisterMachineDeps, request: RegisterMachineRequest & { forwardedFor: string | null }): Promise<MachineRegistrationAnswer> {
  // The token first: a caller without one learns nothing else, and makes nothing be built.
  await checkMachineRegistration(deps.db, request.token);
  const host = machineHost({ advertised: request.advertisedHost, forwardedFor: request.forwardedFor });
  const downloads = await deps.downloads();
  const machine = await consumeMachineRegistration(deps.db, { token: request.token, host, agentPort: deps.config.NODE_AGENT_PORT });
  const parameters = installParameters({
    nodeId: machine.nodeId,
    controlPlaneUrl: deps.config.APP_URL,
    nodeCallbackToken: await signNodeCallbackToken(deps.keys, { nodeId: machine.nodeId }, deps.config.MACHINE_CALLBACK_TOKEN_TTL),
    publicJwk: deps.keys.publicJwk,
    artifact: { url: downloads.vmAgent.url, sha256: downloads.vmAgent.sha256 },
    ...(downloads.runtime ? { runtime: { url: downloads.runtime.url, sha256: downloads.runtime.sha256, arch: downloads.runtime.arch } } : {}),
    agentPort: machine.agentPort,
    // It listens on every address (the installer's default) and reports the one it was registered at.
    agentPublicHost: machine.host,
  });
  return { nodeId: machine.nodeId, parameters, text: parametersFile(parameters) };
}
