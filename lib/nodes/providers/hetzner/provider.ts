/**
 * The `hetzner` provider: one Hetzner Cloud server per node, in its owner's project (their
 * HETZNER_TOKEN, one of their encrypted secrets). The server boots the user data it is given (the
 * cloud-init that installs and starts the vm-agent), carries the labels acp-owner, acp-node and
 * acp-task, and sits behind a firewall that admits only the control plane (CONTROL_PLANE_SOURCE_IPS)
 * to the vm-agent's port (NODE_AGENT_PORT). Any process on the server can read that user data for as
 * long as it runs (the metadata service), so it carries a one-time enrollment token, never the node's
 * callback token (lib/nodes/enrollment.ts). Creating is idempotent: a server the node already has
 * (found by its label, or named after it: 409 uniqueness_error) is adopted, never created twice.
 * Hetzner bills a server until it is deleted, powered off or not, so destroying deletes it.
 */
import net from "node:net";
import { eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { nodes } from "@/db/schema";
import type { Config } from "../../../config";
import type { KeyRing } from "../../../envelope";
import { secretValues } from "../../../secrets/store";
import { NodeProviderError, type CreateNodeInput, type CreatedNode, type MachineStatus, type NodeProvider, type ProviderNode, type RenderUserData } from "../../provider";
import { hetznerClient, type HetznerClient } from "./client";
import { HetznerApiError } from "./errors";
import { firewallIdentity, labelValue, NODE_LABEL, nodeSelector, OWNER_LABEL, serverName, TASK_LABEL, FIREWALL_LABEL } from "./naming";
import { RateLimitGate } from "./rate-limit";
import type { HetznerFirewall, HetznerServer } from "./schemas";

export type HetznerSettings = Pick<
  Config,
  "HETZNER_API_URL" | "HETZNER_LOCATION" | "HETZNER_IMAGE" | "HETZNER_SERVER_TYPE" | "HETZNER_REQUEST_TIMEOUT" | "HETZNER_METADATA_URL" | "NODE_AGENT_PORT" | "CONTROL_PLANE_SOURCE_IPS"
>;

export type HetznerProviderOptions = {
  db: Executor;
  /** Opens the owners' stored secrets (their HETZNER_TOKEN). */
  secrets: KeyRing;
  config: HetznerSettings;
  /** The node's cloud-init (rendered elsewhere: the vm-agent's installation is not this provider's). */
  userData: RenderUserData;
  now?: () => number;
  fetch?: typeof fetch;
};

/** What Hetzner's server statuses mean for a node waiting to come up. */
const MACHINE_STATUS: Record<string, MachineStatus> = {
  initializing: "starting",
  starting: "starting",
  running: "running",
  stopping: "off",
  off: "off",
  deleting: "gone",
};

const missingToken = (userId: string, what: string) =>
  new NodeProviderError(
    `${what}: user ${userId} has no HETZNER_TOKEN. Nodes run in their owner's Hetzner Cloud project: add a Read & Write API token of the project in Settings → Secrets (/settings#secrets) or with PUT /api/secrets/HETZNER_TOKEN`,
    { provider: "hetzner", code: "missing_token", retriable: false },
  );

const isNotFound = (error: unknown) => error instanceof HetznerApiError && error.code === "not_found";

export type HetznerProvider = NodeProvider & {
  /** Powers the node's server off (it stops serving; Hetzner still bills it until `destroy`). Gone already: nothing to do. */
  powerOff(node: ProviderNode): Promise<void>;
};

export function hetznerProvider(options: HetznerProviderOptions): HetznerProvider {
  const { config } = options;
  const gate = new RateLimitGate();

  async function tokenOf(userId: string) {
    const { HETZNER_TOKEN } = await secretValues(options.db, options.secrets, userId, ["HETZNER_TOKEN"]);
    return HETZNER_TOKEN;
  }
  const clientWith = (token: string) =>
    hetznerClient({ apiUrl: config.HETZNER_API_URL, token, timeoutMs: config.HETZNER_REQUEST_TIMEOUT, gate, now: options.now, fetch: options.fetch });

  /** The node's owner and the client of their project (none when they have no token). */
  async function clientForNode(nodeId: string): Promise<{ userId: string; client?: HetznerClient }> {
    const [row] = await options.db.select({ userId: nodes.userId }).from(nodes).where(eq(nodes.id, nodeId));
    if (!row) throw new NodeProviderError(`node ${nodeId} has no row: its owner, whose Hetzner project it is in, is unknown`, { provider: "hetzner", code: "unknown_node", retriable: false });
    const token = await tokenOf(row.userId);
    return { userId: row.userId, ...(token ? { client: clientWith(token) } : {}) };
  }

  /** The node's server: by the id we stored, else by its label (a create whose id was never stored). Undefined when there is none. */
  async function serverOf(client: HetznerClient, node: ProviderNode): Promise<HetznerServer | undefined> {
    if (!node.providerServerId) return (await client.listServers({ labelSelector: nodeSelector(node.id) }))[0];
    try {
      return await client.getServer(Number(node.providerServerId));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** The firewall that admits only the control plane to the vm-agent's port: found by its label, created once, adopted on 409. */
  async function ensureFirewall(client: HetznerClient): Promise<HetznerFirewall> {
    const sources = config.CONTROL_PLANE_SOURCE_IPS ?? [];
    if (!sources.length) {
      throw new NodeProviderError("CONTROL_PLANE_SOURCE_IPS is not set: a Hetzner node's firewall admits only those addresses to its vm-agent", { provider: "hetzner", code: "not_configured", retriable: false });
    }
    const { name, fingerprint } = firewallIdentity(config.NODE_AGENT_PORT, sources);
    const [found] = await client.listFirewalls({ labelSelector: `${FIREWALL_LABEL}=${fingerprint}` });
    if (found) return found;
    try {
      return await client.createFirewall({
        name,
        labels: { [FIREWALL_LABEL]: fingerprint },
        rules: [{ direction: "in", protocol: "tcp", port: String(config.NODE_AGENT_PORT), source_ips: [...sources], description: "the control plane to the vm-agent" }],
      });
    } catch (error) {
      // Another create won the race between our look-up and ours: that one is the same firewall.
      if (!(error instanceof HetznerApiError && error.code === "uniqueness_error")) throw error;
      const [named] = await client.listFirewalls({ name });
      if (!named) throw error;
      return named;
    }
  }

  /** A server an earlier attempt created for the node is the node's; it gets the firewall if it lacks it. */
  async function adopt(client: HetznerClient, server: HetznerServer): Promise<CreatedNode> {
    const firewall = await ensureFirewall(client);
    if (!server.public_net.firewalls.some((f) => f.id === firewall.id)) await client.applyFirewall(firewall.id, [server.id]);
    return { providerServerId: String(server.id) };
  }

  async function renderUserData(input: CreateNodeInput, enrollmentToken: string) {
    const { credential: _credential, ...node } = input;
    try {
      return await options.userData({ ...node, enrollmentToken, agentPort: config.NODE_AGENT_PORT, agentPublicHostUrl: config.HETZNER_METADATA_URL });
    } catch (error) {
      throw new NodeProviderError(`could not render node ${input.nodeId}'s cloud-init: ${(error as Error).message}`, { provider: "hetzner", code: "user_data", retriable: false }, { cause: error });
    }
  }

  async function create(input: CreateNodeInput): Promise<CreatedNode> {
    const { credential } = input;
    if (credential.kind !== "enrollment") {
      // Hetzner answers a server's user data to every process on it for as long as it runs.
      throw new NodeProviderError(`node ${input.nodeId}: a Hetzner server's user data stays readable on it, so it carries an enrollment token, never the node's callback token`, {
        provider: "hetzner",
        code: "credential",
        retriable: false,
      });
    }
    const token = await tokenOf(input.userId);
    if (!token) throw missingToken(input.userId, `node ${input.nodeId} cannot be created`);
    const client = clientWith(token);
    const [existing] = await client.listServers({ labelSelector: nodeSelector(input.nodeId) });
    if (existing) return adopt(client, existing);
    const firewall = await ensureFirewall(client);
    const name = serverName(input.nodeId);
    const labels: Record<string, string> = { [NODE_LABEL]: labelValue(input.nodeId), [OWNER_LABEL]: labelValue(input.userId) };
    if (input.taskId) labels[TASK_LABEL] = labelValue(input.taskId);
    try {
      const { server } = await client.createServer({
        name,
        server_type: config.HETZNER_SERVER_TYPE,
        image: config.HETZNER_IMAGE,
        location: config.HETZNER_LOCATION,
        user_data: await renderUserData(input, credential.token),
        labels,
        firewalls: [{ firewall: firewall.id }],
        public_net: { enable_ipv4: true, enable_ipv6: true },
        start_after_create: true,
      });
      return { providerServerId: String(server.id) };
    } catch (error) {
      if (!(error instanceof HetznerApiError && error.code === "uniqueness_error")) throw error;
      // The name is the node's: an earlier attempt created the server (its answer was lost, or the label look-up had not caught up).
      const [named] = await client.listServers({ name });
      if (!named) throw new NodeProviderError(`server ${name} was taken and is gone again; creating it once more`, { provider: "hetzner", code: "conflict", status: 409, retriable: true }, { cause: error });
      if (named.labels[NODE_LABEL] !== labels[NODE_LABEL]) {
        throw new NodeProviderError(
          `a server named ${name} exists in the Hetzner project but is not node ${input.nodeId}'s (its ${NODE_LABEL} label is ${JSON.stringify(named.labels[NODE_LABEL] ?? null)}): delete or rename it in the Hetzner console`,
          { provider: "hetzner", code: "uniqueness_error", status: 409, retriable: false },
          { cause: error },
        );
      }
      return adopt(client, named);
    }
  }

  return {
    name: "hetzner",
    bootsFromUserData: true,
    create,
    async status(node) {
      const { userId, client } = await clientForNode(node.id);
      if (!client) throw missingToken(userId, `node ${node.id}'s server cannot be asked about`);
      const server = await serverOf(client, node);
      if (!server) return node.providerServerId ? "gone" : undefined;
      // migrating, rebuilding, unknown: passing states, the machine is still there.
      return MACHINE_STATUS[server.status] ?? "starting";
    },
    async checkEndpoint(node, endpoint) {
      const port = config.NODE_AGENT_PORT;
      const match = /^https:\/\/([0-9.]+):([0-9]{1,5})$/.exec(endpoint);
      if (!match || !net.isIPv4(match[1]!)) return `a Hetzner node serves at https://<its public IPv4>:${port}, not ${JSON.stringify(endpoint.slice(0, 200))}`;
      if (Number(match[2]) !== port) return `a Hetzner node serves on NODE_AGENT_PORT ${port}, not ${match[2]}`;
      const { client } = await clientForNode(node.id);
      if (!client) return `node ${node.id}'s owner has no HETZNER_TOKEN, so its server's address cannot be known`;
      const server = await serverOf(client, node);
      if (!server) return `node ${node.id} has no Hetzner server`;
      const address = server.public_net.ipv4?.ip;
      if (address !== match[1]) return `node ${node.id}'s Hetzner server ${server.id} has the address ${address ?? "(no public IPv4)"}, not ${match[1]}`;
      return undefined;
    },
    async destroy(node) {
      const { userId, client } = await clientForNode(node.id);
      if (!client) {
        // Without a token nothing was created, unless the token was removed after: then the server bills on, and only a person can act.
        if (!node.providerServerId) return;
        throw missingToken(userId, `node ${node.id}'s Hetzner server ${node.providerServerId} still exists, and Hetzner bills it until it is deleted; add the token again, or delete the server in the Hetzner console`);
      }
      const ids = node.providerServerId ? [Number(node.providerServerId)] : (await client.listServers({ labelSelector: nodeSelector(node.id) })).map((s) => s.id);
      for (const id of ids) {
        try {
          await client.deleteServer(id);
        } catch (error) {
          if (!isNotFound(error)) throw error; // Deleted already.
        }
      }
    },
    async powerOff(node) {
      const { userId, client } = await clientForNode(node.id);
      if (!client) throw missingToken(userId, `node ${node.id}'s server cannot be powered off`);
      const server = await serverOf(client, node);
      if (!server) return;
      try {
        await client.powerOffServer(server.id);
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    },
  };
}
