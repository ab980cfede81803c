/**
 * The vm-agent's HTTP API (node:https, no framework; HTTPS only, with the certificate tls.ts keeps);
 * daemon.ts builds it with the rest of the daemon. Every workspace route needs a node-management
 * token minted by the control plane for this node and that workspace; `/health` answers anyone that
 * the daemon is up, and only a token for this node who it is and what it holds. Handlers validate
 * and call the workspace manager; nothing else.
 */
import type http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";
import type { z } from "zod";
import { bearerToken, importPublicJwk, TokenError, verifyNodeManagementToken, type VerifyKey } from "../lib/contracts/tokens";
import { CONNECTION_IDLE, CONTRACT_VERSION, CreateWorkspaceRequest, FollowUpPromptRequest, Id, InterruptAgentSessionRequest, StartAgentSessionRequest, type HealthResponse, type InterruptAgentSessionAnswer, type PublicHealthResponse } from "../lib/contracts/vm-agent";
import type { VmAgentConfig } from "./config";
import { CredentialRequest } from "./git-credentials";
import type { Logger } from "./log";
import { RequestError } from "./errors";
import { loadOrCreateTlsIdentity } from "./tls";
import type { WorkspaceManager } from "./workspaces";

export const VM_AGENT_VERSION = "0.1.0";

export type VmAgentServerOptions = {
  config: Pick<VmAgentConfig, "VM_AGENT_HOST" | "VM_AGENT_PORT" | "NODE_ID" | "CONTROL_PLANE_PUBLIC_JWK" | "VM_AGENT_WORK_DIR" | "TLS_CERTIFICATE_LIFETIME">;
  manager: WorkspaceManager;
  log: Logger;
};

const MAX_BODY = 1024 * 1024;

async function readJson(request: http.IncomingMessage): Promise<unknown> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new RequestError(413, "request body too large");
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return text === "" ? {} : JSON.parse(text);
  } catch {
    throw new RequestError(400, "the request body is not valid JSON");
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.path.join(".") || undefined;
    throw new RequestError(field ? 422 : 400, field ? `${field} ${issue.message}` : issue.message, field);
  }
  return result.data;
}

function pathId(value: string | undefined, field: string): string {
  let id: string;
  try {
    id = decodeURIComponent(value ?? "");
  } catch {
    throw new RequestError(400, `${field} is malformed`, field);
  }
  if (!Id.safeParse(id).success) throw new RequestError(400, `${field} is malformed`, field);
  return id;
}

/** The optional `Idempotency-Key` header: printable ASCII without spaces, at most 255 characters. */
function idempotencyKey(request: http.IncomingMessage): string | undefined {
  const value = request.headers["idempotency-key"];
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !/^[\x21-\x7E]{1,255}$/.test(value)) throw new RequestError(400, "Idempotency-Key is malformed", "Idempotency-Key");
  return value;
}

type Caller = Awaited<ReturnType<typeof verifyNodeManagementToken>>;

/**
 * A workspace route acts for the workspace its token names: a token the control plane signed for
 * one workspace (it hands them to whatever works on that workspace) must not reach another's.
 */
function authorizeWorkspace(caller: Caller, workspaceId: string) {
  if (caller.workspaceId === undefined) throw new RequestError(403, `the token names no workspace; workspace ${workspaceId} needs a token for it`);
  if (caller.workspaceId !== workspaceId) throw new RequestError(403, `the token is for another workspace than ${workspaceId}`);
}

export function createVmAgentServer(options: VmAgentServerOptions) {
  const { config, manager, log } = options;
  let key: VerifyKey | undefined;

  /** The token's claims when it was minted for this node; 401 otherwise. */
  async function authenticate(request: http.IncomingMessage): Promise<Caller> {
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new RequestError(401, "missing bearer token");
    try {
      if (!key) throw new RequestError(503, "the vm-agent is starting");
      return await verifyNodeManagementToken(key, token, config.NODE_ID);
    } catch (error) {
      if (error instanceof TokenError) throw new RequestError(401, error.message);
      throw error;
    }
  }

  function health(): HealthResponse {
    return { status: "ok", nodeId: config.NODE_ID, version: VM_AGENT_VERSION, contractVersion: CONTRACT_VERSION, workspaces: manager.count };
  }

  async function route(request: http.IncomingMessage): Promise<[number, unknown]> {
    const url = new URL(request.url ?? "/", "http://vm-agent");
    const parts = url.pathname.split("/").filter(Boolean);
    const method = request.method ?? "GET";
    if (method === "GET" && url.pathname === "/health") {
      // Anyone may learn that the daemon is up (a load balancer, a reboot check); who it is and what
      // it holds is the control plane's to know. A token that is sent must be valid.
      if (request.headers.authorization === undefined) return [200, { status: "ok" } satisfies PublicHealthResponse];
      await authenticate(request);
      return [200, health()];
    }
    if ((method === "GET" && url.pathname === "/inventory") || (method === "DELETE" && parts[0] === "tmux-sessions" && parts.length === 2)) {
      // The whole node's business: a token handed to whatever works on one workspace does not reach it.
      const caller = await authenticate(request);
      if (caller.workspaceId !== undefined) throw new RequestError(403, "this needs a token for the node that names no workspace");
      if (method === "GET") return [200, await manager.inventory()];
      let name: string;
      try {
        name = decodeURIComponent(parts[1]!);
      } catch {
        throw new RequestError(400, "the tmux session name is malformed", "name");
      }
      await manager.stopOrphanTmuxSession(name);
      return [200, { name, status: "stopped" }];
    }
    if (parts[0] !== "workspaces") throw new RequestError(404, "not found");
    if (method === "POST" && parts.length === 3 && parts[2] === "git-credential") {
      // The agent's credential helper: its workspace's ticket, not a management token, authenticates it.
      const workspaceId = pathId(parts[1], "workspaceId");
      const ticket = bearerToken(request.headers.authorization);
      if (!ticket) throw new RequestError(401, "missing bearer ticket");
      return [200, manager.gitCredential(workspaceId, ticket, parse(CredentialRequest, await readJson(request)))];
    }
    const caller = await authenticate(request);
    // POST /workspaces names its workspace in the body, every other route in the path.
    const creation = method === "POST" && parts.length === 1 ? parse(CreateWorkspaceRequest, await readJson(request)) : undefined;
    const workspaceId = pathId(creation ? creation.workspaceId : parts[1], "workspaceId");
    authorizeWorkspace(caller, workspaceId);

    if (creation) {
      const { status } = await manager.create(creation);
      return [202, { workspaceId, status }];
    }
    if (method === "POST" && parts.length === 3 && parts[2] === "stop") {
      await manager.stop(workspaceId);
      return [200, { workspaceId, status: "stopped" }];
    }
    if (method === "POST" && parts.length === 3 && parts[2] === "push") {
      return [200, await manager.pushAgain(workspaceId)];
    }
    if (method === "DELETE" && parts.length === 2) {
      await manager.delete(workspaceId, url.searchParams.get("force") === "true");
      return [200, { workspaceId, status: "deleted" }];
    }
    if (method === "POST" && parts.length === 5 && parts[2] === "agent-sessions" && parts[4] === "start") {
      const sessionId = pathId(parts[3], "sessionId");
      const replayKey = idempotencyKey(request);
      const body = parse(StartAgentSessionRequest, await readJson(request));
      const { status } = await manager.startSession(workspaceId, sessionId, body, replayKey);
      return [202, { sessionId, status }];
    }
    if (method === "GET" && parts.length === 4 && parts[2] === "agent-sessions") {
      return [200, manager.sessionState(workspaceId, pathId(parts[3], "sessionId"))];
    }
    if (method === "POST" && parts.length === 5 && parts[2] === "agent-sessions" && parts[4] === "prompt") {
      const sessionId = pathId(parts[3], "sessionId");
      const body = parse(FollowUpPromptRequest, await readJson(request));
      const { status } = await manager.prompt(workspaceId, sessionId, body);
      return [202, { sessionId, status }];
    }
    if (method === "POST" && parts.length === 5 && parts[2] === "agent-sessions" && parts[4] === "interrupt") {
      const sessionId = pathId(parts[3], "sessionId");
      const body = parse(InterruptAgentSessionRequest, await readJson(request));
      const { interrupted, status } = await manager.interrupt(workspaceId, sessionId, body);
      // 202: its turn is being interrupted; 200: nothing was to do (ended, interrupted already, another turn).
      return [interrupted ? 202 : 200, { sessionId, status } satisfies InterruptAgentSessionAnswer];
    }
    throw new RequestError(404, "not found");
  }

  // Its certificate is set in listen(), from the work folder, before it accepts a connection.
  const server = https.createServer((request, response) => {
    route(request)
      .catch((error: unknown): [number, unknown] => {
        if (error instanceof RequestError) return [error.status, { error: error.message, ...(error.field ? { field: error.field } : {}) }];
        log.error("request failed", { url: request.url, error: String((error as Error)?.stack ?? error) });
        return [500, { error: "internal error" }];
      })
      .then(([status, body]) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(body));
      });
  });
  // Idle connections stay open far longer than the control plane keeps them (CONNECTION_IDLE), so it is always the one to close.
  server.keepAliveTimeout = CONNECTION_IDLE.NODE_MS;

  return {
    /**
     * Loads (or makes) the certificate it serves and the control plane's key: before the daemon adopts
     * anything, so a bad key fails the start. Returns the certificate, for the ready callback's fingerprint.
     */
    async prepare() {
      const identity = await loadOrCreateTlsIdentity({
        workDir: config.VM_AGENT_WORK_DIR,
        nodeId: config.NODE_ID,
        lifetimeMs: config.TLS_CERTIFICATE_LIFETIME,
        onReplaced: (problem) => log.warn("the stored TLS certificate cannot be used; serving a new one, whose fingerprint the ready callback reports", { problem }),
      });
      server.setSecureContext({ key: identity.key, cert: identity.certificate });
      // A bad key is a configuration error: it fails the start, not every request.
      key = await importPublicJwk(config.CONTROL_PLANE_PUBLIC_JWK).catch((error: unknown) => {
        throw new Error(`CONTROL_PLANE_PUBLIC_JWK is not a usable ES256 public key: ${(error as Error).message}`);
      });
      return identity;
    },
    /** Serves HTTPS (after prepare()); resolves with the port. */
    listen: () =>
      new Promise<number>((resolve, reject) => {
        server.once("error", reject);
        server.listen(config.VM_AGENT_PORT, config.VM_AGENT_HOST, () => resolve((server.address() as AddressInfo).port));
      }),
    /** Stops serving; open connections are closed. */
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
