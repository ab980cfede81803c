/** What a node provider does: create a machine that runs a vm-agent, and destroy it. */
import type { JWK } from "jose";

export type CreateNodeInput = {
  nodeId: string;
  /** Where the vm-agent posts its callbacks. */
  controlPlaneUrl: string;
  /** Token for the node's own callbacks (ready, heartbeat). */
  nodeCallbackToken: string;
  /** The control plane's public key, so the vm-agent can verify management calls. */
  publicJwk: JWK;
};

export type CreatedNode = {
  providerServerId: string;
  /** Known at once for local nodes; cloud nodes report theirs in the ready callback. */
  endpoint?: string;
};

export interface NodeProvider {
  readonly name: string;
  /**
   * True when every node of this provider runs on one machine (the local provider): their CPU and
   * memory are that machine's, so another node adds no room and load does not steer placement.
   */
  readonly sharedHost?: boolean;
  create(input: CreateNodeInput): Promise<CreatedNode>;
  /**
   * Why `endpoint`, which the node reported at /ready, is not where this provider's machine for the
   * node serves; undefined when it is. A node token speaks for the node, not for the network: the
   * control plane sends its management tokens and the task's secrets to that address, so it must be
   * the one the provider knows (the local provider: the loopback port it chose; a cloud provider:
   * the machine's address from its API).
   */
  checkEndpoint(node: { id: string; providerServerId: string | null }, endpoint: string): Promise<string | undefined>;
  /**
   * The fingerprint of the TLS certificate the node's daemon serves, when the provider can read it
   * over a channel of its own (the local provider: the daemon's folder on this machine); undefined
   * when it cannot. Only the monitor uses it, to pin a node whose ready callback was lost; otherwise
   * the pin comes from the ready callback alone.
   */
  certificateFingerprint?(node: { id: string; providerServerId: string | null }): Promise<string | undefined>;
  /** Idempotent: destroying a node that is already gone succeeds. */
  destroy(node: { id: string; providerServerId: string | null }): Promise<void>;
  /**
   * Whether the node's daemon process is there, when the provider can tell at once and cheaply
   * (the local provider: its pid); undefined when it cannot (cloud nodes are judged by heartbeats
   * and health probes instead).
   */
  isRunning?(node: { id: string; providerServerId: string | null }): boolean | undefined;
  /** The nodes whose daemon runs now, as the provider sees them (for the orphan report); undefined when it cannot list them. */
  listRunning?(): { id: string; providerServerId: string }[];
  /** Removes what a destroyed node left on the control plane's machine (a local node's folder). */
  purge?(node: { id: string }): Promise<void>;
}
