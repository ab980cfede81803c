/**
 * Every workspace's way out on this node (the one owner of egress): whether the node can enforce
 * egress at all (a probe at start-up), each enforced workspace's namespace, proxy and forwarder
 * (made before its setup script, checked again before each agent session, adopted after a restart,
 * removed with the workspace), the rules its proxy applies (the workspace's record: its request's
 * policy and hosts, and the model API hosts of the agents started in it), and its refusal reports.
 */
import dns from "node:dns/promises";
import fs from "node:fs";
import type http from "node:http";
import os from "node:os";
import path from "node:path";
import { bearerToken } from "../../lib/contracts/tokens";
import { DEFAULT_EGRESS_POLICY, WorkspaceEgress, type EgressEnforcement } from "../../lib/contracts/egress";
import { callbackPaths } from "../../lib/contracts/vm-agent";
import type { VmAgentConfig } from "../config";
import { CredentialRequest, type CredentialAnswer } from "../git-credentials";
import type { Logger } from "../log";
import type { Outbox } from "../outbox";
import { KeyedLock } from "../runtime/keyed-lock";
import { RecordStore } from "../state/records";
import type { WorkspaceEgressRecord, WorkspaceRecord, WorkspaceRecord as WorkspaceRecordSchema } from "../state/schemas";
import { userName, type WorkspaceUser } from "../users";
import { z } from "zod";
import { cannotMakeNamespaces, insideNamespace, isForwarder, startForwarder } from "./forwarder";
import { ensureNamespace, removeNamespace, SOCKET_DIR, socketPath } from "./netns";
import { decide, type EgressRules } from "./policy";
import { DAEMON_INTERNAL_HOST } from "../../lib/contracts/node-layout";
import { createEgressProxy } from "./proxy";
import { RefusalReports } from "./refusals";

export type EgressConfig = Pick<
  VmAgentConfig,
  "NODE_ID" | "WORKSPACE_EGRESS" | "EGRESS_PROXY_PORT" | "EGRESS_REPORT_INTERVAL" | "EGRESS_CONNECT_TIMEOUT" | "EGRESS_DNS_CACHE_TTL" | "CONTROL_PLANE_URL" | "VM_AGENT_PUBLIC_HOST"
>;

/** How a process of an enforced workspace is started: `enter` wraps its argv (run as root), `env` names the proxy. */
export type EgressLaunch = { namespace: string; enter: (argv: string[]) => string[]; env: Record<string, string> };

const ForwarderRecord = z.object({ pid: z.number().int(), port: z.number().int(), namespace: z.string() });

/** How long the forwarder may take to listen after it is started. */
const FORWARDER_START_MS = 10_000;
const MAX_INTERNAL_BODY = 64 * 1024;

export type EgressNetworkOptions = {
  config: EgressConfig;
  stateDir: string;
  workspaces: RecordStore<typeof WorkspaceRecordSchema>;
  outbox: Outbox;
  log: Logger;
  /** The git credential helper's question, as the daemon's HTTPS route answers it (its ticket authenticates it). */
  credential: (workspaceId: string, ticket: string, request: CredentialRequest) => CredentialAnswer | "forbidden";
};

export class EgressNetwork {
  private unavailable: string | undefined = "not probed yet";
  private readonly listeners = new Map<string, ReturnType<typeof createEgressProxy>>();
  private readonly forwarders: RecordStore<typeof ForwarderRecord>;
  private readonly lock = new KeyedLock();
  private readonly reports: RefusalReports;
  private readonly dnsCache = new Map<string, { addresses: string[]; at: number }>();

  constructor(private readonly options: EgressNetworkOptions) {
    this.forwarders = new RecordStore(path.join(options.stateDir, "egress"), ForwarderRecord, { ownerOnly: true });
    this.reports = new RefusalReports((workspaceId, body) => {
      const workspace = options.workspaces.get(workspaceId);
      if (workspace) options.outbox.enqueue(body.messageId, callbackPaths.egressRefusals(workspaceId), workspace.callbackToken, body);
    }, options.config.EGRESS_REPORT_INTERVAL);
  }

  /**
   * Decides, once at start-up, whether workspaces get namespaces: `users` is why workspaces do not
   * run as their own users (undefined when they do). As the daemon's own user, a namespace would
   * hold nothing in: the same user can leave it (and a non-root daemon cannot make one anyway).
   */
  async probe(usersUnavailable: string | undefined) {
    if (this.options.config.WORKSPACE_EGRESS === "off") this.unavailable = "WORKSPACE_EGRESS=off";
    else if (usersUnavailable) this.unavailable = `workspaces do not run as their own users (${usersUnavailable})`;
    else this.unavailable = await cannotMakeNamespaces();
  }

  enforcement(): EgressEnforcement {
    return this.unavailable ? { mode: "none", reason: this.unavailable.slice(0, 500) } : { mode: "namespaces" };
  }

  /**
   * Why a new workspace is refused: a node that isolates workspaces as users but cannot hold them
   * to their egress says so, unless its operator turned egress off (a node that does not isolate
   * workspaces at all says that in its isolation report, and takes them as before).
   */
  creationRefusal(usersEnabled: boolean): string | undefined {
    if (!usersEnabled || !this.unavailable || this.options.config.WORKSPACE_EGRESS === "off") return undefined;
    return `this node cannot enforce egress: ${this.unavailable}; set WORKSPACE_EGRESS=off to run without it`;
  }

  /** What a new workspace's record keeps: its request's rules (the default policy when it names none), and its namespace when enforced. */
  plan(workspaceId: string, egress: WorkspaceEgress | undefined): WorkspaceEgressRecord {
    const rules = egress ?? WorkspaceEgress.parse({ policy: DEFAULT_EGRESS_POLICY });
    return { ...rules, modelHosts: [], ...(this.unavailable ? {} : { namespace: userName(this.options.config.NODE_ID, workspaceId) }) };
  }

  /** The proxy's address inside a namespace, as the workspace's tools are told it. */
  get proxyUrl() {
    return `http://127.0.0.1:${this.options.config.EGRESS_PROXY_PORT}`;
  }

  /**
   * Makes sure the workspace's namespace, proxy and forwarder are there (made, or kept from
   * before) and says how to start its processes; undefined for a workspace on the node's network.
   */
  async ensure(workspace: Pick<WorkspaceRecord, "id" | "egress">, user: WorkspaceUser | undefined): Promise<EgressLaunch | undefined> {
    const namespace = workspace.egress?.namespace;
    if (!namespace) return undefined;
    if (!user) throw new Error(`workspace ${workspace.id} has a network namespace but no user to run in it`);
    if (this.unavailable) throw new Error(`workspace ${workspace.id} needs its network namespace, and this node cannot make one now: ${this.unavailable}`);
    const port = this.options.config.EGRESS_PROXY_PORT;
    await this.lock.run(workspace.id, async () => {
      await ensureNamespace(namespace);
      const socket = socketPath(namespace);
      if (!this.listeners.has(workspace.id)) this.listeners.set(workspace.id, await this.listen(workspace.id, socket, user));
      const running = this.forwarders.get(workspace.id);
      if (running && running.namespace === namespace && isForwarder(running.pid, user, port, socket)) return;
      const pid = await startForwarder(namespace, user, port, socket, FORWARDER_START_MS);
      this.forwarders.put(workspace.id, { pid, port, namespace });
    });
    const proxy = this.proxyUrl;
    return {
      namespace,
      enter: (argv) => insideNamespace(namespace, user, argv),
      // curl and git read the lower-case names (curl ignores an upper-case HTTP_PROXY), other tools the upper-case ones.
      env: { HTTPS_PROXY: proxy, HTTP_PROXY: proxy, https_proxy: proxy, http_proxy: proxy },
    };
  }

  /** The agent's model API is on the workspace's allow-list from its first session on (kept in its record). */
  admitModelHost(workspaceId: string, host: string | undefined) {
    const workspace = this.options.workspaces.get(workspaceId);
    if (!host || !workspace?.egress || workspace.egress.modelHosts.includes(host)) return;
    this.options.workspaces.put(workspaceId, { ...workspace, egress: { ...workspace.egress, modelHosts: [...workspace.egress.modelHosts, host] } });
  }

  /**
   * After a restart: the running workspaces' proxies listen again and their forwarders are checked
   * (started again when gone); what a workspace the node no longer holds left (a delete a crash
   * interrupted) is removed.
   */
  async adopt() {
    for (const workspaceId of this.forwarders.keys()) {
      if (!this.options.workspaces.get(workspaceId)) await this.remove(workspaceId);
    }
    for (const { value } of this.options.workspaces.list()) {
      if (value.status !== "running" || !value.egress?.namespace || !value.user) continue;
      await this.ensure(value, value.user).catch((error: unknown) => this.options.log.error("could not restore a workspace's egress proxy", { workspaceId: value.id, error: String(error) }));
    }
  }

  /** Removes the workspace's proxy, forwarder, socket and namespace (its user is then deleted; a leftover namespace goes with it, users.ts). */
  async remove(workspaceId: string) {
    await this.lock.run(workspaceId, async () => {
      const listener = this.listeners.get(workspaceId);
      this.listeners.delete(workspaceId);
      if (listener) {
        listener.closeAll();
        await new Promise<void>((resolve) => listener.close(() => resolve()));
      }
      this.reports.forget(workspaceId);
      const forwarder = this.forwarders.get(workspaceId);
      if (forwarder) {
        try {
          const status = fs.readFileSync(`/proc/${forwarder.pid}/cmdline`, "utf8");
          if (status.includes(socketPath(forwarder.namespace))) process.kill(forwarder.pid, "SIGKILL");
        } catch {
          // Gone already.
        }
        await removeNamespace(forwarder.namespace);
        this.forwarders.delete(workspaceId);
      }
      const namespace = this.options.workspaces.get(workspaceId)?.egress?.namespace;
      if (namespace) await removeNamespace(namespace);
    });
  }

  /** Stops listening (the forwarders stay, for the next daemon) and sends the refusals gathered. */
  close() {
    this.reports.flushAll();
    for (const listener of this.listeners.values()) {
      listener.closeAll();
      listener.close();
    }
    this.listeners.clear();
  }

  private rules(workspaceId: string): EgressRules {
    const egress = this.options.workspaces.get(workspaceId)?.egress;
    return egress ?? { policy: "none", allowHosts: [], allowPrivate: [], denyHosts: [], modelHosts: [] };
  }

  private async lookup(host: string): Promise<string[]> {
    const cached = this.dnsCache.get(host);
    if (cached && Date.now() - cached.at < this.options.config.EGRESS_DNS_CACHE_TTL) return cached.addresses;
    const addresses = (await dns.lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
    this.dnsCache.set(host, { addresses, at: Date.now() });
    return addresses;
  }

  private async listen(workspaceId: string, socket: string, user: WorkspaceUser) {
    const { config, log } = this.options;
    const server = createEgressProxy({
      decide: (target) =>
        decide(target, this.rules(workspaceId), {
          lookup: (host) => this.lookup(host),
          ownAddresses: () => Object.values(os.networkInterfaces()).flatMap((entries) => (entries ?? []).map((entry) => entry.address)),
          alwaysDenied: [config.CONTROL_PLANE_URL, ...(config.VM_AGENT_PUBLIC_HOST ? [config.VM_AGENT_PUBLIC_HOST] : [])],
        }),
      onRefused: (refusal) => {
        log.info("egress refused", { workspaceId, host: refusal.host, port: refusal.port, reason: refusal.reason });
        this.reports.record(workspaceId, refusal);
      },
      internal: (request, response) => void this.internal(workspaceId, request, response),
      connectTimeoutMs: config.EGRESS_CONNECT_TIMEOUT,
      log,
    });
    // Root's folder, which the users may only pass through; the socket is the workspace user's alone.
    for (const dir of [path.dirname(SOCKET_DIR), SOCKET_DIR]) {
      fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
      fs.chmodSync(dir, 0o711);
    }
    fs.rmSync(socket, { force: true }); // a previous daemon's
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(socket, () => resolve());
    });
    fs.chmodSync(socket, 0o600);
    fs.lchownSync(socket, user.uid, user.gid);
    return server;
  }

  /** A request to the vm-agent itself through the proxy: the workspace's git credential helper, for its own workspace only. */
  private async internal(workspaceId: string, request: http.IncomingMessage, response: http.ServerResponse) {
    const reply = (status: number, body: unknown) => {
      response.writeHead(status, { "content-type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const parts = new URL(request.url ?? "/", `http://${DAEMON_INTERNAL_HOST}`).pathname.split("/").filter(Boolean);
    if (request.method !== "POST" || parts.length !== 3 || parts[0] !== "workspaces" || parts[2] !== "git-credential") return reply(404, { error: "not found" });
    if (parts[1] !== encodeURIComponent(workspaceId)) return reply(403, { error: "the credential helper asks for another workspace than its own" });
    const ticket = bearerToken(request.headers.authorization);
    if (!ticket) return reply(401, { error: "missing bearer ticket" });
    let text = "";
    for await (const chunk of request as AsyncIterable<Buffer>) {
      text += chunk.toString();
      if (text.length > MAX_INTERNAL_BODY) return reply(413, { error: "request body too large" });
    }
    let parsed;
    try {
      parsed = CredentialRequest.safeParse(JSON.parse(text));
    } catch {
      return reply(400, { error: "the request body is not valid JSON" });
    }
    if (!parsed.success) return reply(422, { error: "not a credential request" });
    const answer = this.options.credential(workspaceId, ticket, parsed.data);
    return answer === "forbidden" ? reply(403, { error: "the ticket is not this workspace's" }) : reply(200, answer);
  }
}
