/**
 * The control plane's providers as one: new nodes are created by the configured one (NODE_PROVIDER),
 * and everything done to an existing node goes to the provider its row names, the one that created
 * it. So a local node started before the setting changed to `hetzner` is still stopped as a local
 * process, and a Hetzner server's endpoint is checked against Hetzner's API, never the other way.
 */
import type { CreateNodeInput, NodeProvider, ProviderNode } from "../provider";

export class UnknownProviderError extends Error {
  override readonly name = "UnknownProviderError";
  constructor(node: { id: string; provider: string }, known: readonly string[]) {
    super(`node ${node.id} was created by the ${JSON.stringify(node.provider)} provider, which this control plane does not have (it has ${known.join(", ")})`);
  }
}

export function routedProvider(providers: readonly NodeProvider[], createWith: string): NodeProvider {
  const byName = new Map(providers.map((p) => [p.name, p]));
  const creator = byName.get(createWith);
  if (!creator) throw new Error(`NODE_PROVIDER=${createWith} names no provider (there are ${[...byName.keys()].join(", ")})`);
  const of = (node: { id: string; provider: string }) => {
    const provider = byName.get(node.provider);
    if (!provider) throw new UnknownProviderError(node, [...byName.keys()]);
    return provider;
  };
  return {
    name: creator.name,
    sharedHost: creator.sharedHost,
    bootsFromUserData: creator.bootsFromUserData,
    providerOf: of,
    // A node restarted or re-provisioned after the setting changed is still its own provider's.
    create: (input: CreateNodeInput) => (input.provider ? of({ id: input.nodeId, provider: input.provider }) : creator).create(input),
    checkEndpoint: (node, endpoint) => of(node).checkEndpoint(node, endpoint),
    certificateFingerprint: async (node) => of(node).certificateFingerprint?.(node),
    destroy: (node) => of(node).destroy(node),
    status: async (node) => of(node).status?.(node),
    isRunning: (node) => of(node).isRunning?.(node),
    listRunning: () => providers.flatMap((p): ProviderNode[] => p.listRunning?.() ?? []),
    purge: async (node) => of(node).purge?.(node),
  };
}
