/** What a node provider does: create a machine that runs a vm-agent, and destroy it. */
import type { JWK } from "jose";

/**
 * How a node's daemon comes by its callback token. `callback`: the token itself, for a provider that
 * hands it straight to the daemon and leaves it nowhere else (the local provider: the process's environment).
 * `enrollment`: a one-time token the node's installer exchanges for it at first boot
 * (lib/nodes/enrollment.ts), for a provider whose machines boot from user data that any process on
 * them can read later (`bootsFromUserData`), so the callback token itself is never in it.
 */
export type NodeCredential = { kind: "callback"; token: string } | { kind: "enrollment"; token: string };

export type CreateNodeInput = {
  nodeId: string;
  /** The provider the node's row names, so the right one creates it (routed.ts); a provider itself ignores it. */
  provider?: string;
  /** The node's owner: a cloud machine is created with their credentials (their Hetzner token) and labelled with them. */
  userId: string;
  /** The task the node is created for, when there is one (a label on a cloud machine, for whoever reads the bill). */
  taskId?: string;
  /** Where the vm-agent posts its callbacks. */
  controlPlaneUrl: string;
  /** What the node's daemon authenticates its own callbacks (ready, heartbeat) with, or exchanges for that. */
  credential: NodeCredential;
  /** The control plane's public key, so the vm-agent can verify management calls. */
  publicJwk: JWK;
};

/** What a cloud machine's first boot needs to install and start its vm-agent. */
export type NodeBootInput = Omit<CreateNodeInput, "credential"> & {
  /** The one-time token the installer exchanges for the node's callback token, which the user data never holds. */
  enrollmentToken: string;
  /** The port the vm-agent serves on (NODE_AGENT_PORT); the provider's firewall admits the control plane to it. */
  agentPort: number;
  /** Where the machine reads its public address, which its daemon reports (the cloud's metadata service). */
  agentPublicHostUrl?: string;
};

/** Renders a cloud machine's user data (its cloud-init) from what its boot needs (building the vm-agent's download if it must). */
export type RenderUserData = (input: NodeBootInput) => Promise<string>;

export type CreatedNode = {
  providerServerId: string;
  /** Known at once for local nodes; cloud nodes report theirs in the ready callback. */
  endpoint?: string;
};

/** A node as its provider sees it: the node's id, which provider created it, and that provider's id for its machine. */
export type ProviderNode = { id: string; provider: string; providerServerId: string | null };

/**
 * The machine's state as its provider reports it: `starting` (being created or booting), `running`,
 * `off` (powered off: it serves nothing, yet a cloud still bills it) or `gone` (deleted, or never there).
 */
export type MachineStatus = "starting" | "running" | "off" | "gone";

/**
 * A provider's call failed. `retriable`: trying again later may succeed (at `retryAt` when the
 * provider said when, e.g. its rate limit's reset); otherwise the failure stands until a person acts
 * (a wrong token, a quota, a refused input) and its message says what to do.
 */
export class NodeProviderError extends Error {
  override readonly name: string = "NodeProviderError";
  readonly provider: string;
  /** The provider's own code for the failure (Hetzner's `error.code`, or ours: `missing_token`, `network_error`). */
  readonly code: string;
  /** The HTTP status the provider answered with; undefined when no answer came. */
  readonly status: number | undefined;
  readonly retriable: boolean;
  readonly retryAt: Date | undefined;

  constructor(message: string, details: { provider: string; code: string; status?: number; retriable: boolean; retryAt?: Date }, options?: ErrorOptions) {
    super(message, options);
    this.provider = details.provider;
    this.code = details.code;
    this.status = details.status;
    this.retriable = details.retriable;
    this.retryAt = details.retryAt;
  }
}

export interface NodeProvider {
  readonly name: string;
  /**
   * True when every node of this provider runs on one machine (the local provider): their CPU and
   * memory are that machine's, so another node adds no room and load does not steer placement.
   */
  readonly sharedHost?: boolean;
  /**
   * True when this provider's machines boot from user data that any process on them can read for as
   * long as they run (a cloud's metadata service, which answers the agents too): its nodes are created
   * with an enrollment token, never their callback token (NodeCredential).
   */
  readonly bootsFromUserData?: boolean;
  /** The provider that acts for `node`, when this one stands for several (routed.ts: the one the node's row names). */
  providerOf?(node: { id: string; provider: string }): NodeProvider;
  /**
   * Creates the node's machine, or finds the one an earlier call created (a step may run again after
   * a crash): never two machines for one node. Throws NodeProviderError when the provider refuses.
   */
  create(input: CreateNodeInput): Promise<CreatedNode>;
  /**
   * Why `endpoint`, which the node reported at /ready, is not where this provider's machine for the
   * node serves; undefined when it is. A node token speaks for the node, not for the network: the
   * control plane sends its management tokens and the task's secrets to that address, so it must be
   * the one the provider knows (the local provider: the loopback port it chose; a cloud provider:
   * the machine's address from its API). Throws when the provider cannot be asked now.
   */
  checkEndpoint(node: ProviderNode, endpoint: string): Promise<string | undefined>;
  /**
   * The fingerprint of the TLS certificate the node's daemon serves, when the provider can read it
   * over a channel of its own (the local provider: the daemon's folder on this machine); undefined
   * when it cannot. Only the monitor uses it, to pin a node whose ready callback was lost; otherwise
   * the pin comes from the ready callback alone.
   */
  certificateFingerprint?(node: ProviderNode): Promise<string | undefined>;
  /** Idempotent: destroying a node that is already gone succeeds. */
  destroy(node: ProviderNode): Promise<void>;
  /**
   * The machine's state, asked of the provider (one call; the caller waits between calls with the
   * engine's sleeps, never in a loop). Undefined when the provider cannot tell.
   */
  status?(node: ProviderNode): Promise<MachineStatus | undefined>;
  /**
   * Whether the node's daemon process is there, when the provider can tell at once and cheaply
   * (the local provider: its pid); undefined when it cannot (cloud nodes are judged by heartbeats
   * and health probes instead).
   */
  isRunning?(node: ProviderNode): boolean | undefined;
  /** The nodes whose daemon runs now, as the provider sees them (for the orphan report); undefined when it cannot list them. */
  listRunning?(): ProviderNode[];
  /** Removes what a destroyed node left on the control plane's machine (a local node's folder). */
  purge?(node: { id: string; provider: string }): Promise<void>;
}
