/**
 * The Hetzner provider against the local double of Hetzner Cloud's API, with its owners' tokens in
 * a real database: a node's server is created once (labels, server type, location, user data, a
 * firewall admitting only the control plane to the vm-agent's port), adopted when a step runs again,
 * refused clearly (no token, the project's quota), its status read, its endpoint checked against
 * its address, and deleted (twice is fine).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodes, users } from "@/db/schema";
import { rejectionOf } from "@/tests/harness/rejection";
import { openTestDatabase } from "@/tests/harness/test-database";
import { startHetznerCloudDouble, type DoubleServer, type HetznerCloudDouble } from "@/tests/doubles/hetzner-cloud";
import { parseConfig } from "../../../config";
import { newKeyRingEntry, parseKeyRing } from "../../../envelope";
import { putSecret } from "../../../secrets/store";
import { NodeProviderError, type CreateNodeInput, type NodeBootInput, type ProviderNode } from "../../provider";
import { localProvider } from "../local";
import { routedProvider } from "../routed";
import { hetznerProvider, type HetznerProvider } from "./provider";

const TOKEN = "hetzner-provider-test-token";
const ring = parseKeyRing(newKeyRingEntry("k1"));
let clock = Date.parse("2026-11-20T10:00:00Z");
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let double: HetznerCloudDouble;
let provider: HetznerProvider;
const booted: { server: DoubleServer; userData: string }[] = [];
let n = 0;

/** The user data a node gets: what the cloud-init renderer (another module) is handed, in a form the test can read back. */
const renderUserData = async (input: NodeBootInput) =>
  `#cloud-config\n# ${JSON.stringify({ nodeId: input.nodeId, userId: input.userId, agentPort: input.agentPort, controlPlaneUrl: input.controlPlaneUrl, enrollmentToken: input.enrollmentToken })}\n`;

async function nodeRow(userId = "u1") {
  const id = `n_hz_${++n}`;
  await database.db.insert(nodes).values({ id, userId, provider: "hetzner", status: "creating" });
  return id;
}
const input = (nodeId: string, userId = "u1"): CreateNodeInput => ({
  nodeId,
  userId,
  taskId: `t_${nodeId}`,
  controlPlaneUrl: "https://agents.example.test",
  credential: { kind: "enrollment", token: "enrollment-token" },
  publicJwk: { kty: "EC" },
});
const ref = (id: string, providerServerId: string | null): ProviderNode => ({ id, provider: "hetzner", providerServerId });

const failure = (call: Promise<unknown>) => rejectionOf(call, NodeProviderError);

beforeAll(async () => {
  database = await openTestDatabase();
  double = await startHetznerCloudDouble({
    tokens: [TOKEN],
    serverLimit: 4,
    initializingMs: 5_000,
    startingMs: 10_000,
    now: () => clock,
    onServerCreated: (server, userData) => void booted.push({ server, userData }),
  });
  const config = parseConfig({ NODE_PROVIDER: "hetzner", APP_URL: "https://control-plane.example.test", CONTROL_PLANE_SOURCE_IPS: "203.0.113.7/32, 2001:db8::/64", HETZNER_API_URL: double.url, HETZNER_SERVER_TYPE: "cx32", HETZNER_LOCATION: "nbg1" });
  provider = hetznerProvider({ db: database.db, secrets: ring, config, userData: renderUserData, now: () => clock });
  await database.db.insert(users).values([
    { id: "u1", email: "ada@example.test", name: "Ada" },
    { id: "u_none", email: "bob@example.test", name: "Bob" },
  ]);
  await putSecret(database.db, ring, "u1", "HETZNER_TOKEN", TOKEN);
}, 60_000);
afterAll(async () => {
  await double?.close();
  await database?.close();
});

describe("creating a node's server", () => {
  it("creates one server with the node's labels, size, location and user data, behind a firewall that admits only the control plane to the vm-agent's port", async () => {
    const nodeId = await nodeRow();
    const created = await provider.create(input(nodeId));
    const [server] = double.servers().filter((s) => String(s.id) === created.providerServerId);
    expect(server).toMatchObject({ name: `acp-${nodeId.replaceAll("_", "-")}`, serverType: "cx32", location: "nbg1", image: "ubuntu-24.04" });
    expect(server!.labels).toEqual({ "acp-node": nodeId, "acp-owner": "u1", "acp-task": `t_${nodeId}` });
    // Cloud nodes report their endpoint at /ready; the provider does not guess it.
    expect(created.endpoint).toBeUndefined();

    await expect.poll(() => booted.find((b) => b.server.id === server!.id)?.userData).toContain(`"nodeId":"${nodeId}"`);
    expect(booted.find((b) => b.server.id === server!.id)!.userData).toContain('"agentPort":8443');
    // The user data stays readable on the server: it gets the one-time enrollment token, and nothing else of the input's credential.
    expect(booted.find((b) => b.server.id === server!.id)!.userData).toContain('"enrollmentToken":"enrollment-token"');

    const [firewall] = double.firewalls();
    expect(firewall!.rules).toEqual([{ direction: "in", protocol: "tcp", port: "8443", source_ips: ["203.0.113.7/32", "2001:db8::/64"], description: "the control plane to the vm-agent" }]);
    expect(server!.firewalls).toEqual([firewall!.id]);
  });

  it("adopts the server an earlier attempt made instead of creating a second: by its label, by its name (409), or after an answer that was lost", async () => {
    const before = double.created;
    // A step that runs again after a crash finds the node's server by its label.
    const again = await nodeRow();
    const first = await provider.create(input(again));
    expect(await provider.create(input(again))).toEqual(first);

    // The label look-up had not caught up: the create answers 409 uniqueness_error on the name, and that server is adopted.
    const sent = double.requests.length;
    double.inject("GET /servers", { status: 200, body: { servers: [], meta: {} } });
    expect(await provider.create(input(again))).toEqual(first);
    expect(double.requests.slice(sent).map((r) => `${r.route} ${r.status}`)).toContain("POST /servers 409");

    // The server was created but its answer was lost (a 503 after the fact): the retry adopts it.
    const lost = await nodeRow();
    double.inject("POST /servers", { status: 503, code: "unavailable", message: "service unavailable", afterEffect: true });
    expect(await failure(provider.create(input(lost)))).toMatchObject({ code: "unavailable", retriable: true });
    const adopted = await provider.create(input(lost));
    expect(double.servers().map((s) => String(s.id))).toContain(adopted.providerServerId);

    expect(double.created).toBe(before + 2);
    // Every node shares the one firewall for these rules.
    expect(double.firewalls()).toHaveLength(1);
    for (const nodeId of [again, lost]) await provider.destroy(ref(nodeId, null));
  });

  it("refuses, before asking Hetzner, a node's callback token: the server's user data would hold it for its whole life", async () => {
    const sent = double.requests.length;
    const error = await failure(provider.create({ ...input(await nodeRow()), credential: { kind: "callback", token: "callback-token" } }));
    expect(error).toMatchObject({ code: "credential", retriable: false });
    expect(error.message).toMatch(/carries an enrollment token, never the node's callback token/);
    expect(double.requests.length).toBe(sent);
  });

  it("adopts a firewall made by a concurrent create (409 on its name)", async () => {
    const nodeId = await nodeRow();
    double.inject("GET /firewalls", { status: 200, body: { firewalls: [], meta: {} } });
    const created = await provider.create(input(nodeId));
    expect(double.firewalls()).toHaveLength(1);
    expect(double.servers().find((s) => String(s.id) === created.providerServerId)!.firewalls).toEqual([double.firewalls()[0]!.id]);
    await provider.destroy(ref(nodeId, created.providerServerId));
  });

  it("refuses, for good and saying what to do, a server name some other server holds", async () => {
    const nodeId = await nodeRow();
    const other = await provider.create(input(await nodeRow()));
    // A server named like this node's, labelled for another node.
    double.inject("GET /servers", { status: 200, body: { servers: [], meta: {} } });
    double.inject("POST /servers", { status: 409, code: "uniqueness_error", message: "server name is already used" });
    const otherServer = double.servers().find((s) => String(s.id) === other.providerServerId)!;
    double.inject("GET /servers", { status: 200, body: { servers: [{ id: otherServer.id, name: `acp-${nodeId.replaceAll("_", "-")}`, status: "running", created: new Date(clock).toISOString(), labels: otherServer.labels, public_net: { ipv4: { ip: otherServer.ipv4 }, ipv6: null, firewalls: [] } }], meta: {} } });
    const error = await failure(provider.create(input(nodeId)));
    expect(error).toMatchObject({ code: "uniqueness_error", retriable: false });
    expect(error.message).toMatch(/exists in the Hetzner project but is not node n_hz_\d+'s .*delete or rename it/);
  });

  it("refuses for good when the project's server quota is reached (403 resource_limit_exceeded), with the API's message", async () => {
    const made: string[] = [];
    while (double.servers().length < 4) {
      const nodeId = await nodeRow();
      await provider.create(input(nodeId));
      made.push(nodeId);
    }
    const error = await failure(provider.create(input(await nodeRow())));
    expect(error).toMatchObject({ code: "resource_limit_exceeded", status: 403, retriable: false });
    expect(error.message).toContain("server limit exceeded");
    for (const nodeId of made) await provider.destroy(ref(nodeId, null));
  });

  it("refuses for good a node whose owner has no HETZNER_TOKEN, naming the secret and where to set it", async () => {
    const nodeId = await nodeRow("u_none");
    const error = await failure(provider.create(input(nodeId, "u_none")));
    expect(error).toMatchObject({ code: "missing_token", retriable: false });
    expect(error.message).toContain("user u_none has no HETZNER_TOKEN");
    expect(error.message).toContain("Settings → Secrets");
    // Nothing could have been made without a token: destroying it has nothing to do.
    await provider.destroy(ref(nodeId, null));
  });
});

describe("a node's server after it was created", () => {
  it("reports its status as it boots, is powered off, and is deleted; deleting it again succeeds", async () => {
    const nodeId = await nodeRow();
    const { providerServerId } = await provider.create(input(nodeId));
    const node = ref(nodeId, providerServerId);
    expect(await provider.status!(node)).toBe("starting");
    clock += 15_000;
    expect(await provider.status!(node)).toBe("running");
    await provider.powerOff(node);
    expect(await provider.status!(node)).toBe("off");
    await provider.destroy(node);
    expect(double.servers().map((s) => String(s.id))).not.toContain(providerServerId);
    expect(await provider.status!(node)).toBe("gone");
    // Idempotent: a 404 is what "destroyed" looks like.
    await provider.destroy(node);
    expect(double.requests.at(-1)).toMatchObject({ route: "DELETE /servers/{id}", status: 404 });
  });

  it("deletes the server of a node whose id was never stored, found by its label", async () => {
    const nodeId = await nodeRow();
    await provider.create(input(nodeId));
    await provider.destroy(ref(nodeId, null));
    expect(double.servers().filter((s) => s.labels["acp-node"] === nodeId)).toEqual([]);
  });

  it("accepts only https://<the server's public IPv4>:NODE_AGENT_PORT as the node's endpoint", async () => {
    const nodeId = await nodeRow();
    const { providerServerId } = await provider.create(input(nodeId));
    const node = ref(nodeId, providerServerId);
    const address = double.servers().find((s) => String(s.id) === providerServerId)!.ipv4;
    expect(await provider.checkEndpoint(node, `https://${address}:8443`)).toBeUndefined();
    // Before its id was stored (a ready callback faster than the create's answer), the label finds it.
    expect(await provider.checkEndpoint(ref(nodeId, null), `https://${address}:8443`)).toBeUndefined();
    expect(await provider.checkEndpoint(node, "https://127.0.9.9:8443")).toMatch(/has the address 127\.0\.0\.\d+, not 127\.0\.9\.9/);
    expect(await provider.checkEndpoint(node, `http://${address}:8443`)).toMatch(/serves at https:\/\/<its public IPv4>:8443/);
    expect(await provider.checkEndpoint(node, `https://${address}:9000`)).toMatch(/NODE_AGENT_PORT 8443, not 9000/);
    expect(await provider.checkEndpoint(node, `https://attacker.example:8443`)).toMatch(/serves at https/);
    await provider.destroy(node);
    expect(await provider.checkEndpoint(node, `https://${address}:8443`)).toBe(`node ${nodeId} has no Hetzner server`);
  });
});

describe("the providers as one (routed)", () => {
  it("acts on each node through the provider that created it, and creates new ones with the configured one", async () => {
    const routed = routedProvider([localProvider({ dataDir: database.dir }), provider], "hetzner");
    expect(routed.name).toBe("hetzner");
    // Each node's own provider says how its daemon gets its token: a Hetzner server's from its user data, a local one's not.
    expect(routed.providerOf!({ id: "n_a", provider: "hetzner" }).bootsFromUserData).toBe(true);
    expect(routed.providerOf!({ id: "n_b", provider: "local" }).bootsFromUserData).toBeFalsy();
    const nodeId = await nodeRow();
    const { providerServerId } = await routed.create(input(nodeId));
    expect(double.servers().map((s) => String(s.id))).toContain(providerServerId);
    const address = double.servers().find((s) => String(s.id) === providerServerId)!.ipv4;
    expect(await routed.checkEndpoint(ref(nodeId, providerServerId), `https://${address}:8443`)).toBeUndefined();
    // The same address is no local node's: the local provider judges local nodes.
    expect(await routed.checkEndpoint({ id: nodeId, provider: "local", providerServerId: "pid:1" }, "https://127.0.0.1:4000")).toMatch(/was not started by this local provider/);
    expect(() => routed.isRunning!({ id: nodeId, provider: "gcp", providerServerId: "1" })).toThrow(/"gcp" provider, which this control plane does not have/);
    await routed.destroy(ref(nodeId, providerServerId));
    expect(double.servers().map((s) => String(s.id))).not.toContain(providerServerId);
  });
});
