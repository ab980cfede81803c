/**
 * Machines people own, against PGlite with the real modules: the one-time token (hashed at rest,
 * single use, expiry), the node it makes (its owner's, never created, never reaped, not counted
 * against MAX_NODES_PER_USER), the endpoint its provider holds it to, and where selection places work.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { machineRegistrations, nodes, tasks, users } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { getNode, provisionNode } from "../nodes/lifecycle";
import { expiredWarmNodes, settleNode } from "../nodes/pool";
import { machineProvider } from "./provider";
import { NodeProviderError } from "../nodes/provider";
import { placeTask, type SelectionLimits } from "../nodes/selection";
import type { Runtime } from "../runtime";
import { MachineRegistrationError } from "./errors";
import { forwardedPeer, machineHost } from "./machine-host";
import { secretTokenHash } from "../auth/secret-tokens";
import { consumeMachineRegistration, createMachineRegistration } from "./registrations";

const APP_URL = "https://cp.example.com";
const HOUR = 3_600_000;
const limits: SelectionLimits = { maxWorkspacesPerNode: 3, cpuThreshold: 80, memoryThreshold: 85, maxNodesPerUser: 1 };

describe("the machine's address", () => {
  it("is the advertised host, else the last X-Forwarded-For hop, IPv4 in IPv6 as itself", () => {
    expect(machineHost({ advertised: "Build-Box.example.com", forwardedFor: "10.0.0.1" })).toBe("build-box.example.com");
    expect(machineHost({ forwardedFor: "198.51.100.1, 203.0.113.7" })).toBe("203.0.113.7");
    expect(machineHost({ forwardedFor: "::ffff:203.0.113.7" })).toBe("203.0.113.7");
    expect(machineHost({ forwardedFor: "2001:DB8::7" })).toBe("2001:db8::7");
    expect(forwardedPeer("not-an-address")).toBeUndefined();
    expect(() => machineHost({ forwardedFor: null })).toThrow(/ACP_AGENT_PUBLIC_HOST/);
  });
});

describe("against the database", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  let rt: Runtime;
  let user = 0;
  let userId: string;

  beforeAll(async () => {
    database = await openTestDatabase();
    rt = await testRuntime(database);
  }, 60_000);
  afterAll(async () => database?.close());

  const addUser = async () => {
    const id = `mu${++user}`;
    await database.db.insert(users).values({ id, email: `${id}@example.test`, name: id });
    return id;
  };
  beforeEach(async () => {
    userId = await addUser();
  });

  const create = (ttlMs = HOUR, owner = userId) => createMachineRegistration(database.db, { userId: owner, appUrl: APP_URL, ttlMs });
  const consume = (token: string) => consumeMachineRegistration(database.db, { token, host: "203.0.113.7", agentPort: 8443 });
  const refusal = async (promise: Promise<unknown>) => {
    const error = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MachineRegistrationError);
    return (error as MachineRegistrationError).refusal;
  };

  it("shows the token once, in the install command, and keeps only its hash", async () => {
    const made = await create();
    expect(made.token).toMatch(/^acpm_[A-Za-z0-9_-]{43}$/);
    expect(made.command).toBe(
      `curl -fsSL ${APP_URL}/api/vm-agent/install.sh | sudo ACP_CONTROL_PLANE_URL=${APP_URL} ACP_REGISTRATION_TOKEN=${made.token} sh`,
    );
    expect(Date.parse(made.expiresAt) - Date.now()).toBeGreaterThan(HOUR - 60_000);
    const [row] = await database.db.select().from(machineRegistrations).where(eq(machineRegistrations.id, made.id));
    expect(row!.tokenHash).toBe(secretTokenHash(made.token));
    expect(JSON.stringify(row)).not.toContain(made.token.slice(5));
  });

  it("refuses to make a command a remote machine could not call back with (plain http to another host)", async () => {
    await expect(createMachineRegistration(database.db, { userId, appUrl: "http://cp.example.com", ttlMs: HOUR })).rejects.toMatchObject({ refusal: "unreachable" });
    await expect(createMachineRegistration(database.db, { userId, appUrl: "http://127.0.0.1:3000", ttlMs: HOUR })).resolves.toMatchObject({ command: expect.stringContaining("http://127.0.0.1:3000") });
  });

  it("is spent by the first registration, which makes its owner's machine node; a second use, an unknown or an expired token is refused and writes nothing", async () => {
    const made = await create();
    const machine = await consume(made.token);
    expect(machine).toMatchObject({ userId, registrationId: made.id, host: "203.0.113.7", agentPort: 8443 });
    expect(await getNode(database.db, machine.nodeId)).toMatchObject({ userId, provider: "machine", providerServerId: made.id, status: "creating", autoProvisioned: false });

    expect(await refusal(consume(made.token))).toBe("used");
    expect(await refusal(consume(`acpm_${"x".repeat(43)}`))).toBe("unknown");
    const expired = await create(-1);
    expect(await refusal(consume(expired.token))).toBe("expired");
    expect(await database.db.select().from(nodes).where(eq(nodes.userId, userId))).toHaveLength(1);
    const [row] = await database.db.select().from(machineRegistrations).where(eq(machineRegistrations.id, expired.id));
    expect(row).toMatchObject({ usedAt: null, nodeId: null });
  });

  it("is used once when two registrations race", async () => {
    const made = await create();
    const results = await Promise.allSettled([consume(made.token), consume(made.token)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await database.db.select().from(nodes).where(eq(nodes.userId, userId))).toHaveLength(1);
  });

  it("holds the node to the endpoint it registered, and is never created by the control plane", async () => {
    const provider = machineProvider({ db: database.db });
    const machine = await consume((await create()).token);
    const node = { id: machine.nodeId, provider: "machine", providerServerId: machine.registrationId };
    expect(await provider.checkEndpoint(node, "https://203.0.113.7:8443")).toBeUndefined();
    expect(await provider.checkEndpoint(node, "https://203.0.113.8:8443")).toMatch(/registered to serve at https:\/\/203\.0\.113\.7:8443/);
    expect(await provider.checkEndpoint(node, "https://203.0.113.7:9443")).toBeDefined();
    expect(await provider.checkEndpoint({ ...node, id: "n_other" }, "https://203.0.113.7:8443")).toMatch(/no machine registration/);
    await expect(provider.create({ nodeId: machine.nodeId, userId, controlPlaneUrl: APP_URL, credential: { kind: "callback", token: "t" }, publicJwk: rt.keys.publicJwk })).rejects.toBeInstanceOf(NodeProviderError);
    // Its row has its provider id (the registration's): provisioning leaves it to its own install.
    expect(await provisionNode({ db: database.db, provider, keys: rt.keys, controlPlaneUrl: APP_URL, callbackTtlMs: HOUR, enrollmentTtlMs: HOUR, leaseMs: HOUR }, machine.nodeId)).toBe(false);
  });

  const addTask = (id: string, owner = userId) =>
    database.db.insert(tasks).values({ id, userId: owner, repository: "/tmp/r", prompt: "p", agent: "script", status: "queued", branch: `agents/${id}` });
  const place = (taskId: string, owner = userId) => placeTask(database.db, { taskId, userId: owner, provider: "local", authMode: "local", limits });
  const runningMachine = async (owner = userId) => {
    const machine = await consume((await create(HOUR, owner)).token);
    await database.db.update(nodes).set({ status: "running", health: "healthy" }).where(eq(nodes.id, machine.nodeId));
    return machine.nodeId;
  };

  it("gets its owner's work first once it runs, never another person's, and does not count against MAX_NODES_PER_USER", async () => {
    const installing = await consume((await create()).token);
    await addTask(`${userId}_t0`);
    // Still installing: not waited on; a node of the control plane's is made (the quota of 1 does not count the machine).
    const first = await place(`${userId}_t0`);
    expect(first).toMatchObject({ kind: "assigned", created: true });
    expect(first.kind === "assigned" && first.nodeId).not.toBe(installing.nodeId);
    await database.db.update(nodes).set({ status: "running", health: "healthy" }).where(eq(nodes.id, first.kind === "assigned" ? first.nodeId : ""));

    const machineId = await runningMachine();
    for (const n of [1, 2, 3]) {
      await addTask(`${userId}_t${n}`);
      expect(await place(`${userId}_t${n}`)).toMatchObject({ kind: "assigned", nodeId: machineId });
    }
    // The machine is full (MAX_WORKSPACES_PER_NODE): the next goes to the control plane's node.
    await addTask(`${userId}_t4`);
    expect(await place(`${userId}_t4`)).toMatchObject({ kind: "assigned", nodeId: first.kind === "assigned" ? first.nodeId : "" });

    const other = await addUser();
    await addTask(`${other}_t1`, other);
    const theirs = await place(`${other}_t1`, other);
    expect(theirs).toMatchObject({ kind: "assigned", created: true });
    expect(theirs.kind === "assigned" && theirs.nodeId).not.toBe(machineId);
  });

  it("stays when idle: warm for as long as its owner keeps it, never reaped", async () => {
    const machineId = await runningMachine();
    expect(await settleNode(rt, machineId, 0)).toBe("warm");
    await database.db.update(nodes).set({ warmSince: new Date(Date.now() - 10 * HOUR) }).where(eq(nodes.id, machineId));
    expect((await expiredWarmNodes(database.db, 1000)).map((n) => n.id)).not.toContain(machineId);
    expect(await getNode(database.db, machineId)).toMatchObject({ status: "running" });
  });
});
