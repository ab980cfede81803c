/**
 * A small typed client of Hetzner Cloud's API (docs.hetzner.cloud): servers, their actions and
 * firewalls, the calls the Hetzner provider makes. Every answer is checked against its schema;
 * every failure is a HetznerApiError that says whether trying again later may help and, for a rate
 * limit, when. It never waits or retries by itself: its callers run inside durable steps, which
 * sleep between tries (the engine's sleeps, not a loop inside a step).
 */
import type { z } from "zod";
import { codeForStatus, HetznerApiError } from "./errors";
import { RateLimitGate, readRateLimit } from "./rate-limit";
import {
  ActionAnswer,
  ActionListAnswer,
  CreatedServerAnswer,
  FirewallAnswer,
  FirewallListAnswer,
  HetznerErrorEnvelope,
  ServerAnswer,
  ServerListAnswer,
  type CreateFirewallRequest,
  type CreateServerRequest,
} from "./schemas";

export type HetznerClientOptions = {
  /** HETZNER_API_URL, e.g. https://api.hetzner.cloud/v1. */
  apiUrl: string;
  /** The project's API token (the node owner's HETZNER_TOKEN). */
  token: string;
  /** HETZNER_REQUEST_TIMEOUT: how long one call may take. */
  timeoutMs: number;
  /** Shared by the clients of one process, so a project's rate limit holds across its calls. */
  gate?: RateLimitGate;
  now?: () => number;
  fetch?: typeof fetch;
};

/** A filter of a list call: Hetzner's label selector (`acp-node=n_1`) and/or an exact name. */
export type ListFilter = { labelSelector?: string; name?: string };

export type HetznerClient = ReturnType<typeof hetznerClient>;

export function hetznerClient(options: HetznerClientOptions) {
  const base = options.apiUrl.replace(/\/+$/, "");
  const gate = options.gate ?? new RateLimitGate();
  const gateKey = RateLimitGate.keyOf(options.token);
  const now = options.now ?? Date.now;
  const fetchImpl = options.fetch ?? fetch;

  async function call<S extends z.ZodType>(method: string, path: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    const request = `${method} ${path.split("?")[0]}`;
    const blockedUntil = gate.blocked(gateKey, now());
    if (blockedUntil !== undefined) {
      // Its last answer left no requests: one that went now would only be refused (429) and count.
      throw new HetznerApiError({ code: "rate_limit_exceeded", message: "no requests left in this project's rate limit (RateLimit-Remaining 0)", status: 429, retryAt: new Date(blockedUntil), request });
    }
    let response: Response;
    try {
      response = await fetchImpl(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${options.token}`, accept: "application/json", ...(body === undefined ? {} : { "content-type": "application/json" }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(options.timeoutMs),
        redirect: "error",
      });
    } catch (error) {
      const timedOut = (error as Error).name === "TimeoutError";
      const message = timedOut ? `no answer within HETZNER_REQUEST_TIMEOUT (${options.timeoutMs} ms)` : `the request failed: ${(error as Error).message}`;
      throw new HetznerApiError({ code: "no_answer", message, request }, { cause: error });
    }
    const nextAllowed = gate.record(gateKey, readRateLimit(response.headers), now());
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const envelope = HetznerErrorEnvelope.safeParse(json);
      const code = envelope.success ? envelope.data.error.code : codeForStatus(response.status);
      const message = envelope.success ? envelope.data.error.message : `${response.statusText || "error"}: ${text.slice(0, 200)}`;
      const retryAt = code === "rate_limit_exceeded" || response.status === 429 ? new Date(Math.max(nextAllowed, now() + 1000)) : undefined;
      throw new HetznerApiError({ code, message, status: response.status, details: envelope.success ? envelope.data.error.details : undefined, retryAt, request });
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      throw new HetznerApiError({ code: "invalid_answer", message: `the answer is not what the API documents: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, status: response.status, request });
    }
    return parsed.data;
  }

  const query = (filter: ListFilter) => {
    const params = new URLSearchParams({ per_page: "50" });
    if (filter.labelSelector) params.set("label_selector", filter.labelSelector);
    if (filter.name) params.set("name", filter.name);
    return params.toString();
  };

  return {
    async getServer(serverId: number) {
      return (await call("GET", `/servers/${serverId}`, ServerAnswer)).server;
    },
    /** The first page (50): our filters match one server, or a handful. */
    async listServers(filter: ListFilter) {
      return (await call("GET", `/servers?${query(filter)}`, ServerListAnswer)).servers;
    },
    /** 201: the server (status `initializing`) and its `create_server` action. */
    createServer(request: CreateServerRequest) {
      return call("POST", "/servers", CreatedServerAnswer, request);
    },
    /** A hard power off (as pulling the plug); the server keeps its disk, and Hetzner bills it until it is deleted. */
    async powerOffServer(serverId: number) {
      return (await call("POST", `/servers/${serverId}/actions/poweroff`, ActionAnswer)).action;
    },
    async deleteServer(serverId: number) {
      return (await call("DELETE", `/servers/${serverId}`, ActionAnswer)).action;
    },
    async getAction(actionId: number) {
      return (await call("GET", `/actions/${actionId}`, ActionAnswer)).action;
    },
    async listServerActions(serverId: number) {
      return (await call("GET", `/servers/${serverId}/actions?per_page=50`, ActionListAnswer)).actions;
    },
    async listFirewalls(filter: ListFilter) {
      return (await call("GET", `/firewalls?${query(filter)}`, FirewallListAnswer)).firewalls;
    },
    async createFirewall(request: CreateFirewallRequest) {
      return (await call("POST", "/firewalls", FirewallAnswer, request)).firewall;
    },
    /** Applies the firewall to servers (an action per server). */
    async applyFirewall(firewallId: number, serverIds: number[]) {
      const apply_to = serverIds.map((id) => ({ type: "server", server: { id } }));
      return (await call("POST", `/firewalls/${firewallId}/actions/apply_to_resources`, ActionListAnswer, { apply_to })).actions;
    },
  };
}
