/**
 * A local stand-in for Hetzner Cloud's API (docs.hetzner.cloud), following the published contract
 * for what the Hetzner provider uses: `Authorization: Bearer` (401 unauthorized otherwise); servers
 * (create, get, list by `label_selector` and `name`, power off, delete) whose status moves
 * initializing → starting → running on the double's clock; actions (`running` → `success`);
 * firewalls (create, list, apply to servers); labels checked as the API checks them; the error
 * envelope `{"error": {"code", "message", "details"}}` with uniqueness_error (409) on a taken name,
 * resource_limit_exceeded (403) past the server quota, invalid_input (422); RateLimit-* headers on
 * every answer, and 429 rate_limit_exceeded when the project's requests are used up (they come back
 * evenly, as the API documents).
 *
 * For tests of the whole system: each server gets a public IPv4 of its own from 127.0.0.0/8
 * (127.0.0.2, 127.0.0.3, …), so its node can run as a local process on that loopback address with
 * the same port as every other; `onServerCreated(server, userData)` and `onServerDeleted(server)`
 * let a test boot and stop that process; `created` and `peakServers` count what the quota saw.
 * Failures are injected per route (`inject("POST /servers", { status: 503, code: "unavailable" }, 2)`),
 * optionally after the call took effect (an answer lost on the way back). Test tree only.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { labelProblem, parseLabelSelector } from "./hetzner-cloud-labels";

export type DoubleServer = {
  id: number;
  name: string;
  labels: Record<string, string>;
  serverType: string;
  image: string;
  location: string;
  ipv4: string;
  firewalls: number[];
  createdAtMs: number;
  poweredOffAtMs?: number;
};

type DoubleFirewall = { id: number; name: string; labels: Record<string, string>; rules: Record<string, unknown>[] };
type DoubleAction = { id: number; command: string; resources: { id: number; type: string }[]; startedMs: number; finishMs: number };

/** An answer to give instead of the real one. `afterEffect`: the call still does what it asks first (its answer is lost). */
export type Injection = { status: number; code?: string; message?: string; body?: unknown; headers?: Record<string, string>; afterEffect?: boolean };

export type HetznerCloudOptions = {
  /** Tokens of the project. */
  tokens: string[];
  /** How many servers the project may have at once; more are refused with 403 resource_limit_exceeded. */
  serverLimit?: number;
  /** Requests per hour (RateLimit-Limit) and how many come back per second (the API: limit / 3600). */
  rateLimit?: { limit: number; refillPerSecond?: number };
  /** How long a new server is `initializing`, then `starting`, on the double's clock (default 0: running at once). */
  initializingMs?: number;
  startingMs?: number;
  /** The double's clock (default Date.now); `advance` moves it further. */
  now?: () => number;
  onServerCreated?: (server: DoubleServer, userData: string) => void | Promise<void>;
  onServerDeleted?: (server: DoubleServer) => void | Promise<void>;
  onServerPoweredOff?: (server: DoubleServer) => void | Promise<void>;
};

export type RecordedRequest = { method: string; path: string; route: string; status: number; body?: unknown };

const HOSTNAME = /^(?=.{1,253}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const USER_DATA_MAX = 32 * 1024;

const ROUTES: [string, RegExp][] = [
  ["GET /servers", /^\/servers$/],
  ["POST /servers", /^\/servers$/],
  ["GET /servers/{id}", /^\/servers\/(\d+)$/],
  ["DELETE /servers/{id}", /^\/servers\/(\d+)$/],
  ["POST /servers/{id}/actions/poweroff", /^\/servers\/(\d+)\/actions\/poweroff$/],
  ["GET /servers/{id}/actions", /^\/servers\/(\d+)\/actions$/],
  ["GET /actions/{id}", /^\/actions\/(\d+)$/],
  ["GET /firewalls", /^\/firewalls$/],
  ["POST /firewalls", /^\/firewalls$/],
  ["POST /firewalls/{id}/actions/apply_to_resources", /^\/firewalls\/(\d+)\/actions\/apply_to_resources$/],
];

class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = {},
  ) {
    super(message);
  }
}

const invalidInput = (field: string, message: string) => new ApiFailure(422, "invalid_input", `invalid input in field '${field}': ${message}`, { fields: [{ name: field, messages: [message] }] });

export async function startHetznerCloudDouble(options: HetznerCloudOptions) {
  let offsetMs = 0;
  const clock = () => (options.now ?? Date.now)() + offsetMs;
  const servers = new Map<number, DoubleServer>();
  const firewalls = new Map<number, DoubleFirewall>();
  const actions = new Map<number, DoubleAction>();
  const injections = new Map<string, Injection[]>();
  const requests: RecordedRequest[] = [];
  const hookFailures: Error[] = [];
  let nextId = 1000;
  let nextHost = 2; // 127.0.0.2 onwards: .1 is the control plane's own loopback address
  let created = 0;
  let peakServers = 0;
  const limit = options.rateLimit?.limit ?? 3600;
  const refillPerSecond = options.rateLimit?.refillPerSecond ?? limit / 3600;
  let tokens = limit;
  let refilledAtMs = clock();
  const initializingMs = options.initializingMs ?? 0;
  const startingMs = options.startingMs ?? 0;

  const bootedAt = (server: DoubleServer) => server.createdAtMs + initializingMs + startingMs;
  const statusOf = (server: DoubleServer) => {
    if (server.poweredOffAtMs !== undefined) return "off";
    const age = clock() - server.createdAtMs;
    return age < initializingMs ? "initializing" : age < initializingMs + startingMs ? "starting" : "running";
  };
  const iso = (ms: number) => new Date(ms).toISOString();
  const serverJson = (s: DoubleServer) => ({
    id: s.id,
    name: s.name,
    status: statusOf(s),
    created: iso(s.createdAtMs),
    labels: s.labels,
    locked: false,
    server_type: { name: s.serverType },
    image: { name: s.image },
    datacenter: { name: `${s.location}-dc1`, location: { name: s.location } },
    public_net: {
      ipv4: { id: s.id, ip: s.ipv4, blocked: false, dns_ptr: `static.${s.ipv4.split(".").reverse().join(".")}.example` },
      ipv6: null,
      floating_ips: [],
      firewalls: s.firewalls.map((id) => ({ id, status: "applied" })),
    },
  });
  const actionJson = (a: DoubleAction) => {
    const done = clock() >= a.finishMs;
    return { id: a.id, command: a.command, status: done ? "success" : "running", progress: done ? 100 : 50, started: iso(a.startedMs), finished: done ? iso(a.finishMs) : null, resources: a.resources, error: null };
  };
  const firewallJson = (f: DoubleFirewall) => ({
    id: f.id,
    name: f.name,
    labels: f.labels,
    rules: f.rules,
    created: iso(clock()),
    applied_to: [...servers.values()].filter((s) => s.firewalls.includes(f.id)).map((s) => ({ type: "server", server: { id: s.id } })),
  });
  const newAction = (command: string, resources: { id: number; type: string }[], finishMs = clock()) => {
    const action = { id: nextId++, command, resources, startedMs: clock(), finishMs };
    actions.set(action.id, action);
    return action;
  };
  const runHook = (hook: (() => void | Promise<void>) | undefined) => {
    if (!hook) return;
    setImmediate(() => Promise.resolve().then(hook).catch((error: Error) => hookFailures.push(error)));
  };

  /** Takes one request from the project's allowance; false when none is left. */
  const spendRequest = () => {
    const now = clock();
    tokens = Math.min(limit, tokens + ((now - refilledAtMs) / 1000) * refillPerSecond);
    refilledAtMs = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  };
  const rateLimitHeaders = () => ({
    "ratelimit-limit": String(limit),
    "ratelimit-remaining": String(Math.floor(tokens)),
    "ratelimit-reset": String(Math.ceil((clock() + ((limit - tokens) / refillPerSecond) * 1000) / 1000)),
  });

  const serverOr404 = (id: number) => {
    const server = servers.get(id);
    if (!server) throw new ApiFailure(404, "not_found", `server with ID '${id}' not found`);
    return server;
  };
  const validLabels = (labels: unknown) => {
    if (labels === undefined) return {};
    if (typeof labels !== "object" || labels === null || Array.isArray(labels)) throw invalidInput("labels", "must be an object");
    for (const [key, value] of Object.entries(labels)) {
      const problem = labelProblem(key, value);
      if (problem) throw invalidInput("labels", problem);
    }
    return labels as Record<string, string>;
  };
  const selected = <T extends { name: string; labels: Record<string, string> }>(items: T[], params: URLSearchParams) => {
    const selector = params.get("label_selector");
    const matches = selector === null ? () => true : parseLabelSelector(selector);
    if (!matches) throw invalidInput("label_selector", "is not a valid label selector");
    const name = params.get("name");
    return items.filter((item) => matches(item.labels) && (name === null || item.name === name));
  };
  const page = (params: URLSearchParams, total: number) => ({
    pagination: { page: 1, per_page: Number(params.get("per_page") ?? 25), previous_page: null, next_page: null, last_page: 1, total_entries: total },
  });

  function createServer(body: Record<string, unknown>) {
    const name = body.name;
    if (typeof name !== "string" || !HOSTNAME.test(name)) throw invalidInput("name", "must be a valid hostname");
    for (const field of ["server_type", "image"] as const) if (typeof body[field] !== "string" || !body[field]) throw invalidInput(field, "is required");
    const labels = validLabels(body.labels);
    const userData = body.user_data ?? "";
    if (typeof userData !== "string" || Buffer.byteLength(userData) > USER_DATA_MAX) throw invalidInput("user_data", `must be text of at most ${USER_DATA_MAX} bytes`);
    const wanted = Array.isArray(body.firewalls) ? body.firewalls : [];
    const firewallIds = wanted.map((entry: { firewall?: unknown }) => Number(entry?.firewall));
    for (const id of firewallIds) if (!firewalls.has(id)) throw invalidInput("firewalls", `firewall ${id} not found`);
    if ([...servers.values()].some((s) => s.name === name)) throw new ApiFailure(409, "uniqueness_error", "server name is already used", { fields: [{ name: "name" }] });
    if (options.serverLimit !== undefined && servers.size >= options.serverLimit) {
      throw new ApiFailure(403, "resource_limit_exceeded", "server limit exceeded", { limits: [{ name: "server_limit" }] });
    }
    const server: DoubleServer = {
      id: nextId++,
      name,
      labels,
      serverType: body.server_type as string,
      image: body.image as string,
      location: typeof body.location === "string" ? body.location : "fsn1",
      ipv4: `127.0.${Math.floor(nextHost / 256)}.${nextHost % 256}`,
      firewalls: firewallIds,
      createdAtMs: clock(),
    };
    nextHost += nextHost % 256 === 254 ? 3 : 1; // skip .255 and .0
    servers.set(server.id, server);
    created++;
    peakServers = Math.max(peakServers, servers.size);
    const action = newAction("create_server", [{ id: server.id, type: "server" }], bootedAt(server));
    runHook(options.onServerCreated && (() => options.onServerCreated!(server, userData)));
    return { status: 201, body: { server: serverJson(server), action: actionJson(action), next_actions: [], root_password: null } };
  }

  function createFirewall(body: Record<string, unknown>) {
    const name = body.name;
    if (typeof name !== "string" || !name) throw invalidInput("name", "is required");
    const labels = validLabels(body.labels);
    const rules = Array.isArray(body.rules) ? (body.rules as Record<string, unknown>[]) : [];
    for (const rule of rules) {
      if (!["in", "out"].includes(rule.direction as string)) throw invalidInput("rules", "direction must be in or out");
      if (!["tcp", "udp", "icmp", "esp", "gre"].includes(rule.protocol as string)) throw invalidInput("rules", "unknown protocol");
      if (["tcp", "udp"].includes(rule.protocol as string) && !/^\d{1,5}(-\d{1,5})?$|^any$/.test(String(rule.port))) throw invalidInput("rules", "port is required for tcp and udp");
      if (rule.direction === "in" && (!Array.isArray(rule.source_ips) || !rule.source_ips.length)) throw invalidInput("rules", "source_ips is required for inbound rules");
    }
    if ([...firewalls.values()].some((f) => f.name === name)) throw new ApiFailure(409, "uniqueness_error", "firewall name is already used", { fields: [{ name: "name" }] });
    const firewall = { id: nextId++, name, labels, rules };
    firewalls.set(firewall.id, firewall);
    return { status: 201, body: { firewall: firewallJson(firewall), actions: [] } };
  }

  function route(method: string, path: string, params: URLSearchParams, body: Record<string, unknown>): { status: number; body: unknown } {
    const [key, match] = ROUTES.map(([k, pattern]) => [k, pattern.exec(path)] as const).find(([k, m]) => m && k.startsWith(`${method} `)) ?? [];
    const id = Number(match?.[1]);
    switch (key) {
      case "GET /servers": {
        const list = selected([...servers.values()], params);
        return { status: 200, body: { servers: list.map(serverJson), meta: page(params, list.length) } };
      }
      case "POST /servers":
        return createServer(body);
      case "GET /servers/{id}":
        return { status: 200, body: { server: serverJson(serverOr404(id)) } };
      case "DELETE /servers/{id}": {
        const server = serverOr404(id);
        servers.delete(id);
        runHook(options.onServerDeleted && (() => options.onServerDeleted!(server)));
        return { status: 200, body: { action: actionJson(newAction("delete_server", [{ id, type: "server" }])) } };
      }
      case "POST /servers/{id}/actions/poweroff": {
        const server = serverOr404(id);
        server.poweredOffAtMs ??= clock();
        runHook(options.onServerPoweredOff && (() => options.onServerPoweredOff!(server)));
        return { status: 201, body: { action: actionJson(newAction("stop_server", [{ id, type: "server" }])) } };
      }
      case "GET /servers/{id}/actions": {
        serverOr404(id);
        const list = [...actions.values()].filter((a) => a.resources.some((r) => r.type === "server" && r.id === id));
        return { status: 200, body: { actions: list.map(actionJson), meta: page(params, list.length) } };
      }
      case "GET /actions/{id}": {
        const action = actions.get(id);
        if (!action) throw new ApiFailure(404, "not_found", `action with ID '${id}' not found`);
        return { status: 200, body: { action: actionJson(action) } };
      }
      case "GET /firewalls": {
        const list = selected([...firewalls.values()], params);
        return { status: 200, body: { firewalls: list.map(firewallJson), meta: page(params, list.length) } };
      }
      case "POST /firewalls":
        return createFirewall(body);
      case "POST /firewalls/{id}/actions/apply_to_resources": {
        if (!firewalls.has(id)) throw new ApiFailure(404, "not_found", `firewall with ID '${id}' not found`);
        const targets = Array.isArray(body.apply_to) ? (body.apply_to as { type?: string; server?: { id?: number } }[]) : [];
        const applied = targets.map((target) => {
          if (target.type !== "server" || !servers.has(Number(target.server?.id))) throw new ApiFailure(422, "firewall_resource_not_found", "resource to apply the firewall to not found");
          const server = servers.get(Number(target.server!.id))!;
          if (server.firewalls.includes(id)) throw new ApiFailure(422, "firewall_already_applied", "firewall is already applied to the server");
          server.firewalls.push(id);
          return actionJson(newAction("apply_firewall", [{ id, type: "firewall" }, { id: server.id, type: "server" }]));
        });
        return { status: 201, body: { actions: applied } };
      }
      default:
        throw new ApiFailure(404, "not_found", `no route for ${method} ${path}`);
    }
  }

  const routeKey = (method: string, path: string) => ROUTES.find(([k, pattern]) => k.startsWith(`${method} `) && pattern.test(path))?.[0] ?? `${method} ${path}`;

  const server = http.createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://double");
    const path = url.pathname.replace(/^\/v1/, "");
    const method = request.method ?? "GET";
    const key = routeKey(method, path);
    let text = "";
    for await (const chunk of request) text += chunk;
    let body: Record<string, unknown> = {};
    let outcome: { status: number; body: unknown; headers?: Record<string, string> };
    try {
      // Every request counts against the limit, authenticated or not (as the API documents).
      if (!spendRequest()) throw new ApiFailure(429, "rate_limit_exceeded", "limit of requests per hour reached");
      const token = /^Bearer (.+)$/.exec(request.headers.authorization ?? "")?.[1];
      if (!token || !options.tokens.includes(token)) throw new ApiFailure(401, "unauthorized", "unable to authenticate");
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        throw new ApiFailure(400, "json_error", "invalid JSON in the request body");
      }
      const injected = injections.get(key)?.shift();
      if (injected) {
        if (injected.afterEffect) route(method, path, url.searchParams, body);
        const error = { error: { code: injected.code ?? "server_error", message: injected.message ?? `injected ${injected.status}`, details: {} } };
        outcome = { status: injected.status, body: injected.body ?? error, headers: injected.headers };
      } else outcome = route(method, path, url.searchParams, body);
    } catch (error) {
      const failure = error instanceof ApiFailure ? error : new ApiFailure(500, "server_error", `the double failed: ${(error as Error).message}`);
      outcome = { status: failure.status, body: { error: { code: failure.code, message: failure.message, details: failure.details } } };
    }
    requests.push({ method, path, route: key, status: outcome.status, ...(text ? { body } : {}) });
    response.writeHead(outcome.status, { "content-type": "application/json", ...rateLimitHeaders(), ...outcome.headers });
    response.end(JSON.stringify(outcome.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

  return {
    /** The API's base, as HETZNER_API_URL. */
    url,
    requests,
    /** Failures of the hooks (they run after the answer, so a test checks them here). */
    hookFailures,
    /** The next `times` calls of `routeKey` (e.g. "POST /servers") get this answer. */
    inject(routeKey: string, injection: Injection, times = 1) {
      const queue = injections.get(routeKey) ?? [];
      for (let i = 0; i < times; i++) queue.push(injection);
      injections.set(routeKey, queue);
    },
    /** Moves the double's clock (server boots, actions, the rate limit's refill). */
    advance(ms: number) {
      offsetMs += ms;
    },
    now: clock,
    /** Uses up the project's requests, as a burst of other clients would. */
    exhaustRateLimit() {
      spendRequest();
      tokens = 0;
    },
    servers: () => [...servers.values()].map((s) => ({ ...s, status: statusOf(s) })),
    firewalls: () => [...firewalls.values()].map(firewallJson),
    /** Servers created so far, and the most that existed at once. */
    get created() {
      return created;
    },
    get peakServers() {
      return peakServers;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export type HetznerCloudDouble = Awaited<ReturnType<typeof startHetznerCloudDouble>>;
