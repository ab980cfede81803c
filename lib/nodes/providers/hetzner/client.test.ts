/**
 * The Hetzner Cloud client against the local double of the published API: servers and their
 * actions, labels, firewalls, and every documented failure classified as permanent or worth
 * retrying (with when, for the rate limit, from the RateLimit-* headers).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { rejectionOf } from "@/tests/harness/rejection";
import { startHetznerCloudDouble, type HetznerCloudDouble } from "@/tests/doubles/hetzner-cloud";
import { hetznerClient } from "./client";
import { HetznerApiError } from "./errors";
import { RateLimitGate } from "./rate-limit";
import type { CreateServerRequest } from "./schemas";

const TOKEN = "hetzner-client-test-token";
let clock = Date.parse("2026-11-20T10:00:00Z");
const now = () => clock;
let double: HetznerCloudDouble;
let gate: RateLimitGate;
let n = 0;

const client = (token = TOKEN, timeoutMs = 5_000) => hetznerClient({ apiUrl: double.url, token, timeoutMs, gate, now });

const serverRequest = (overrides: Partial<CreateServerRequest> = {}): CreateServerRequest => ({
  name: `acp-client-${++n}`,
  server_type: "cx22",
  image: "ubuntu-24.04",
  location: "fsn1",
  user_data: "#cloud-config\n",
  labels: { "acp-node": `n_client_${n}`, "acp-owner": "u1" },
  firewalls: [],
  public_net: { enable_ipv4: true, enable_ipv6: true },
  start_after_create: true,
  ...overrides,
});

const failure = (call: Promise<unknown>) => rejectionOf(call, HetznerApiError);

beforeAll(async () => {
  double = await startHetznerCloudDouble({ tokens: [TOKEN], serverLimit: 3, initializingMs: 10_000, startingMs: 20_000, now });
});
afterAll(async () => double?.close());
beforeEach(() => {
  gate = new RateLimitGate();
});

describe("servers and their actions", () => {
  it("creates a server that boots initializing → starting → running while its create action runs, and lists it by label selector", async () => {
    const request = serverRequest();
    const { server, action } = await client().createServer(request);
    expect(server).toMatchObject({ name: request.name, status: "initializing", labels: request.labels });
    expect(server.public_net.ipv4?.ip).toMatch(/^127\.0\.0\.\d+$/);
    expect(action).toMatchObject({ command: "create_server", status: "running", resources: [{ id: server.id, type: "server" }] });

    clock += 10_000;
    expect((await client().getServer(server.id)).status).toBe("starting");
    clock += 20_000;
    expect((await client().getServer(server.id)).status).toBe("running");
    expect(await client().getAction(action.id)).toMatchObject({ status: "success", progress: 100 });
    expect((await client().listServerActions(server.id)).map((a) => [a.command, a.status])).toEqual([["create_server", "success"]]);

    expect((await client().listServers({ labelSelector: `acp-node=${request.labels["acp-node"]}` })).map((s) => s.id)).toEqual([server.id]);
    expect(await client().listServers({ labelSelector: "acp-node=n_nobody" })).toEqual([]);
    expect((await client().listServers({ name: request.name })).map((s) => s.id)).toEqual([server.id]);

    // Off, then deleted: its answers say so, and a deleted server is not found.
    expect((await client().powerOffServer(server.id)).command).toBe("stop_server");
    expect((await client().getServer(server.id)).status).toBe("off");
    expect((await client().deleteServer(server.id)).command).toBe("delete_server");
    const gone = await failure(client().getServer(server.id));
    expect(gone).toMatchObject({ code: "not_found", status: 404, retriable: false });
  });

  it("creates a firewall, finds it by label, and applies it to a server", async () => {
    const firewall = await client().createFirewall({
      name: "acp-client-firewall",
      labels: { "acp-firewall": "abc" },
      rules: [{ direction: "in", protocol: "tcp", port: "8443", source_ips: ["203.0.113.7/32"] }],
    });
    expect(firewall.rules).toMatchObject([{ direction: "in", port: "8443", source_ips: ["203.0.113.7/32"] }]);
    expect((await client().listFirewalls({ labelSelector: "acp-firewall=abc" })).map((f) => f.id)).toEqual([firewall.id]);
    const { server } = await client().createServer(serverRequest());
    const applied = await client().applyFirewall(firewall.id, [server.id]);
    expect(applied.map((a) => a.command)).toEqual(["apply_firewall"]);
    expect((await client().getServer(server.id)).public_net.firewalls).toEqual([{ id: firewall.id, status: "applied" }]);
    await client().deleteServer(server.id);
  });
});

describe("failures, as the API documents them", () => {
  it("401 unauthorized: a wrong token is permanent and says where the token is set", async () => {
    const error = await failure(client("not-the-token").listServers({}));
    expect(error).toMatchObject({ code: "unauthorized", status: 401, retriable: false, provider: "hetzner" });
    expect(error.message).toContain("HETZNER_TOKEN in Settings → Secrets");
  });

  it("403 forbidden is permanent; 403 resource_limit_exceeded (the server quota) is permanent with the limit's details", async () => {
    double.inject("GET /servers", { status: 403, code: "forbidden", message: "insufficient permissions" });
    expect(await failure(client().listServers({}))).toMatchObject({ code: "forbidden", status: 403, retriable: false });

    const made = [];
    for (let i = double.servers().length; i < 3; i++) made.push((await client().createServer(serverRequest())).server.id);
    const error = await failure(client().createServer(serverRequest()));
    expect(error).toMatchObject({ code: "resource_limit_exceeded", status: 403, retriable: false, details: { limits: [{ name: "server_limit" }] } });
    expect(error.message).toContain("limit is reached");
    for (const id of made) await client().deleteServer(id);
  });

  it("409 uniqueness_error on a taken name is permanent (the caller adopts); 409 conflict is retried", async () => {
    const request = serverRequest();
    const { server } = await client().createServer(request);
    const taken = await failure(client().createServer({ ...request, labels: {} }));
    expect(taken).toMatchObject({ code: "uniqueness_error", status: 409, retriable: false, details: { fields: [{ name: "name" }] } });
    await client().deleteServer(server.id);

    double.inject("POST /servers", { status: 409, code: "conflict", message: "the resource has changed during the request, please retry" });
    expect(await failure(client().createServer(serverRequest()))).toMatchObject({ code: "conflict", status: 409, retriable: true });
  });

  it("422 invalid_input (an invalid label value) is permanent and names the field", async () => {
    const error = await failure(client().createServer(serverRequest({ labels: { "acp-task": "-starts-with-a-dash" } })));
    expect(error).toMatchObject({ code: "invalid_input", status: 422, retriable: false, details: { fields: [{ name: "labels" }] } });
  });

  it("423 locked is retried; 423 protected is permanent", async () => {
    double.inject("DELETE /servers/{id}", { status: 423, code: "locked", message: "server is locked" });
    expect(await failure(client().deleteServer(1))).toMatchObject({ code: "locked", status: 423, retriable: true });
    double.inject("DELETE /servers/{id}", { status: 423, code: "protected", message: "server is protected" });
    expect(await failure(client().deleteServer(1))).toMatchObject({ code: "protected", status: 423, retriable: false });
  });

  it.each([
    [500, "server_error"],
    [502, "bad_gateway"],
    [503, "unavailable"],
    [504, "timeout"],
  ])("%i %s is retried", async (status, code) => {
    double.inject("POST /servers", { status, code, message: "try again" });
    expect(await failure(client().createServer(serverRequest()))).toMatchObject({ code, status, retriable: true });
  });

  it("a 5xx whose body is not the API's envelope (a gateway's page) is still read by its status", async () => {
    double.inject("GET /servers/{id}", { status: 502, body: "<html>Bad Gateway</html>" });
    expect(await failure(client().getServer(1))).toMatchObject({ code: "bad_gateway", status: 502, retriable: true });
  });

  it("no answer (a closed port, or none within HETZNER_REQUEST_TIMEOUT) is retried", async () => {
    const closed = hetznerClient({ apiUrl: "http://127.0.0.1:9/v1", token: TOKEN, timeoutMs: 2_000, now });
    expect(await failure(closed.listServers({}))).toMatchObject({ code: "no_answer", status: undefined, retriable: true });

    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const slow = hetznerClient({ apiUrl: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/v1`, token: TOKEN, timeoutMs: 200, now });
      const error = await failure(slow.listServers({}));
      expect(error).toMatchObject({ code: "no_answer", retriable: true });
      expect(error.message).toContain("HETZNER_REQUEST_TIMEOUT");
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe("the rate limit", () => {
  it("reads the RateLimit-* headers: a 429 is retried when a request has come back, and until then no request is sent", async () => {
    await client().listServers({});
    double.exhaustRateLimit();
    const sent = double.requests.length;

    const limited = await failure(client().listServers({}));
    // 3600 an hour come back one a second (the API's refill), so the next may go a second later, long before RateLimit-Reset.
    expect(limited).toMatchObject({ code: "rate_limit_exceeded", status: 429, retriable: true, retryAt: new Date(clock + 1_000) });
    expect(double.requests.length).toBe(sent + 1);

    // Until then the gate refuses at once, without spending a request on another 429.
    const held = await failure(client().getServer(1));
    expect(held).toMatchObject({ code: "rate_limit_exceeded", retriable: true, retryAt: new Date(clock + 1_000) });
    expect(double.requests.length).toBe(sent + 1);

    clock += 1_000;
    expect(await client().listServers({ labelSelector: "acp-node=n_nobody" })).toEqual([]);
    expect(double.requests.length).toBe(sent + 2);
  });

  it("every answer carries the headers, and a project's limit is held per token", async () => {
    clock += 60_000; // a minute's requests come back
    const response = await fetch(`${double.url}/servers`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(Number(response.headers.get("ratelimit-limit"))).toBe(3600);
    expect(Number(response.headers.get("ratelimit-remaining"))).toBeGreaterThan(0);
    expect(Number(response.headers.get("ratelimit-reset")) * 1000).toBeGreaterThanOrEqual(clock);

    gate.record(RateLimitGate.keyOf("another-project"), { limit: 3600, remaining: 0, resetAtMs: clock + 3_600_000 }, clock);
    expect(gate.blocked(RateLimitGate.keyOf("another-project"), clock)).toBe(clock + 1_000);
    expect(gate.blocked(RateLimitGate.keyOf(TOKEN), clock)).toBeUndefined();
  });
});
