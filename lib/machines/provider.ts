/**
 * The `machine` provider: machines people own, registered with the one-line install command
 * (this folder). The control plane never creates one (node selection never asks it to: a machine
 * node has its provider id from its registration) and never deletes one: destroying forgets it (the
 * node is marked stopped and its callbacks are refused from then on); the machine, its daemon and
 * its files stay its owner's. Its endpoint must be where its registration said it serves.
 */
import type { Executor } from "@/db/client";
import { nodeEndpoint } from "../contracts/vm-agent";
import { MACHINE_PROVIDER, registeredEndpoint } from "./registrations";
import { NodeProviderError, type NodeProvider } from "../nodes/provider";

export function machineProvider(options: { db: Executor }): NodeProvider {
  return {
    name: MACHINE_PROVIDER,
    async create(input) {
      throw new NodeProviderError(
        `node ${input.nodeId} is a machine someone owns: it joins with the install command on the nodes page, the control plane cannot create it`,
        { provider: MACHINE_PROVIDER, code: "not_creatable", retriable: false },
      );
    },
    async checkEndpoint(node, endpoint) {
      const registered = await registeredEndpoint(options.db, node.id);
      if (!registered) return `node ${node.id} has no machine registration saying where it serves`;
      const expected = nodeEndpoint(registered.host, registered.agentPort);
      return endpoint === expected ? undefined : `machine node ${node.id} was registered to serve at ${expected}, not ${JSON.stringify(endpoint.slice(0, 200))}`;
    },
    // Not ours to delete: the control plane forgets it (lib/nodes/lifecycle.ts marks it stopped).
    destroy: async () => undefined,
  };
}
