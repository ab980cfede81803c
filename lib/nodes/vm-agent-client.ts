/**
 * The control plane's client for one vm-agent. Every call carries a short-lived node-management
 * token, with the claim of the workspace it addresses (the vm-agent refuses a workspace call
 * without it); only `health` goes out node-wide. Every call goes over HTTPS to the certificate the
 * node's ready callback reported (pinned-tls.ts). Answers are validated with the shared contract;
 * failures say whether retrying can help.
 */
import type { z } from "zod";
import {
  AgentSessionAccepted,
  AgentSessionState,
  PushAgainResponse,
  HealthResponse,
  InterruptAgentSessionAnswer,
  NodeInventory,
  VmAgentError,
  WorkspaceAccepted,
  vmAgentPaths,
  type CreateWorkspaceRequest,
  type FollowUpPromptRequest,
  type InterruptAgentSessionRequest,
  type StartAgentSessionRequest,
} from "../contracts/vm-agent";
import type { CertificateFingerprint } from "../contracts/tls";
import { signNodeManagementToken, type SigningKey } from "../auth/tokens";
import { pinnedFetch, pinRefusal } from "./pinned-tls";

export class VmAgentRequestError extends Error {
  constructor(
    message: string,
    /** HTTP status, or undefined when the node could not be reached. */
    readonly status: number | undefined,
    /** True when the node refused the request itself: retrying the same request cannot succeed. */
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = "VmAgentRequestError";
  }
}

export type VmAgentClientOptions = {
  endpoint: string;
  nodeId: string;
  /** The certificate the node reported at ready; the only one it may present. */
  certificateFingerprint: CertificateFingerprint;
  key: SigningKey;
  tokenTtlMs: number;
  timeoutMs: number;
};

export function vmAgentClient(options: VmAgentClientOptions) {
  async function call<T>(
    method: string,
    path: string,
    body: unknown,
    schema: z.ZodType<T> | undefined,
    extra: { workspaceId?: string; idempotencyKey?: string } = {},
  ): Promise<T | undefined> {
    const token = await signNodeManagementToken(
      options.key,
      { nodeId: options.nodeId, workspaceId: extra.workspaceId },
      options.tokenTtlMs,
    );
    let response: Awaited<ReturnType<typeof pinnedFetch>>;
    try {
      response = await pinnedFetch({ id: options.nodeId, certificateFingerprint: options.certificateFingerprint }, new URL(path, options.endpoint), {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body === undefined ? {} : { "content-type": "application/json" }),
          ...(extra.idempotencyKey ? { "idempotency-key": extra.idempotencyKey } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
    } catch (error) {
      // Another certificate is not a network hiccup: the same machine answers the same way on every retry.
      const refusal = pinRefusal(error);
      if (refusal) throw new VmAgentRequestError(refusal.message, undefined, true);
      const cause = (error as Error).cause instanceof Error ? `: ${((error as Error).cause as Error).message}` : "";
      throw new VmAgentRequestError(`node ${options.nodeId} unreachable: ${(error as Error).message}${cause}`, undefined, false);
    }
    const text = await response.text();
    if (!response.ok) {
      const parsed = VmAgentError.safeParse(safeJson(text));
      const detail = parsed.success ? parsed.data.error : text.slice(0, 500) || response.statusText;
      // 4xx means the node understood and refused; 408/429 and 5xx may pass on a retry.
      const permanent = response.status >= 400 && response.status < 500 && ![408, 429].includes(response.status);
      throw new VmAgentRequestError(`node refused ${method} ${path}: ${detail}`, response.status, permanent);
    }
    if (!schema) return undefined;
    const parsed = schema.safeParse(safeJson(text));
    if (!parsed.success) throw new VmAgentRequestError(`node answered ${path} with an unexpected body`, response.status, false);
    return parsed.data;
  }

  return {
    /** Who the node is and what it holds (answered only to a token for this node). */
    health: () => call("GET", vmAgentPaths.health(), undefined, HealthResponse),
    /** What the node holds: its workspaces (and unrecorded folders) and tmux sessions (a token naming no workspace). */
    inventory: () => call("GET", vmAgentPaths.inventory(), undefined, NodeInventory),
    /** Stops a tmux session that none of the node's runtime records owns. */
    stopOrphanTmuxSession: (name: string) => call("DELETE", vmAgentPaths.tmuxSession(name), undefined, undefined),
    createWorkspace: (request: CreateWorkspaceRequest) =>
      call("POST", vmAgentPaths.workspaces(), request, WorkspaceAccepted, { workspaceId: request.workspaceId }),
    startAgentSession: (workspaceId: string, sessionId: string, request: StartAgentSessionRequest) =>
      call("POST", vmAgentPaths.startAgentSession(workspaceId, sessionId), request, AgentSessionAccepted, {
        workspaceId,
        idempotencyKey: sessionId,
      }),
    /** A follow-up turn; its `turn` makes a resend start nothing new. */
    promptAgentSession: (workspaceId: string, sessionId: string, request: FollowUpPromptRequest) =>
      call("POST", vmAgentPaths.promptAgentSession(workspaceId, sessionId), request, AgentSessionAccepted, { workspaceId }),
    /**
     * Interrupts the session's running turn `request.turn` (its work is kept, its completion says
     * `interrupted`); safe to resend: a turn that ended, was interrupted already or is not the
     * current one is left as it is. The answer is the session's status.
     */
    interruptAgentSession: (workspaceId: string, sessionId: string, request: InterruptAgentSessionRequest) =>
      call("POST", vmAgentPaths.interruptAgentSession(workspaceId, sessionId), request, InterruptAgentSessionAnswer, { workspaceId }),
    stopWorkspace: (workspaceId: string) =>
      call("POST", vmAgentPaths.stopWorkspace(workspaceId), {}, undefined, { workspaceId }),
    /** Removes the worktree; without `force` the node refuses (409) while it holds work that is not pushed. */
    deleteWorkspace: (workspaceId: string, force: boolean) =>
      call("DELETE", `${vmAgentPaths.workspace(workspaceId)}${force ? "?force=true" : ""}`, undefined, undefined, { workspaceId }),
    /** Pushes a stopped workspace's work again (its last push was refused). */
    pushWorkspace: (workspaceId: string) => call("POST", vmAgentPaths.pushWorkspace(workspaceId), {}, PushAgainResponse, { workspaceId }),
    sessionState: (workspaceId: string, sessionId: string) =>
      call("GET", vmAgentPaths.agentSession(workspaceId, sessionId), undefined, AgentSessionState, { workspaceId }),
  };
}

export type VmAgentClient = ReturnType<typeof vmAgentClient>;

/** What the database records of a node that calls need: where it serves, and the certificate pinned at its ready callback. */
export type CallableNode = { id: string; endpoint: string | null; certificateFingerprint: string | null };

/**
 * A client for the node as the database records it. A node without an endpoint or a pinned
 * certificate cannot be called yet: its ready callback has not come (or was refused).
 */
export function clientForNode(
  deps: { keys: SigningKey; config: { NODE_MANAGEMENT_TOKEN_TTL: number; VM_AGENT_REQUEST_TIMEOUT: number } },
  node: CallableNode,
): VmAgentClient {
  if (!node.endpoint) throw new VmAgentRequestError(`node ${node.id} has no endpoint yet`, undefined, false);
  if (!node.certificateFingerprint) throw new VmAgentRequestError(`node ${node.id} has no pinned TLS certificate yet (its ready callback has not come)`, undefined, false);
  return vmAgentClient({
    endpoint: node.endpoint,
    nodeId: node.id,
    certificateFingerprint: node.certificateFingerprint,
    key: deps.keys,
    tokenTtlMs: deps.config.NODE_MANAGEMENT_TOKEN_TTL,
    timeoutMs: deps.config.VM_AGENT_REQUEST_TIMEOUT,
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
