/**
 * Creating a task's node on Hetzner (the double of its API), as the run's stages do it: a provider
 * that fails for a while asks the run to sleep until a time and try again (bounded), one that
 * refuses for good loses the node and fails with the API's message, and a server that is off or
 * gone while the task waits for its node ends the wait at once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { eq } from "drizzle-orm";
import { errors, nodes, tasks, users } from "@/db/schema";
import { rejectionOf } from "@/tests/harness/rejection";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { startHetznerCloudDouble, type HetznerCloudDouble } from "@/tests/doubles/hetzner-cloud";
import { NodeProviderError } from "../nodes/provider";
import { hetznerProvider } from "../nodes/providers/hetzner/provider";
import { localProvider } from "../nodes/providers/local";
import { routedProvider } from "../nodes/providers/routed";
import { destroyLostNodes } from "../recovery/safety-nets";
import { putSecret } from "../secrets/store";
import type { Runtime } from "../runtime";
import { nodeReadiness, provisionNodeStage } from "./placement";
import { LOST, PENDING } from "./stage";

const TOKEN = "provisioning-test-token";
let database: Awaited<ReturnType<typeof openTestDatabase>>;
let double: HetznerCloudDouble;
let rt: Runtime & { sent: { name: string; data: unknown }[] };
let n = 0;

async function taskOnNewNode() {
  const taskId = `t_prov_${++n}`;
  const nodeId = `n_prov_${n}`;
  await database.db.insert(nodes).values({ id: nodeId, userId: "u1", provider: "hetzner", status: "creating" });
  await database.db.insert(tasks).values({ id: taskId, userId: "u1", repository: "https://github.com/acme/widgets.git", prompt: "p", agent: "script", status: "queued", branch: `agents/${taskId}`, nodeId });
  return { taskId, nodeId };
}
const nodeOf = async (nodeId: string) => (await database.db.select().from(nodes).where(eq(nodes.id, nodeId)))[0]!;

const failure = (call: Promise<unknown>) => rejectionOf(call, NodeProviderError);

beforeAll(async () => {
  database = await openTestDatabase();
  double = await startHetznerCloudDouble({ tokens: [TOKEN], initializingMs: 60_000 });
  const base = await testRuntime(database, {
    NODE_PROVIDER: "hetzner",
    // Hetzner nodes call back from other machines: over HTTPS only.
    APP_URL: "https://control-plane.example.test",
    CONTROL_PLANE_SOURCE_IPS: "203.0.113.7",
    HETZNER_API_URL: double.url,
    NODE_PROVISIONING_RETRIES: "2",
    NODE_PROVISIONING_RETRY_BACKOFF: "10s",
  });
  const hetzner = hetznerProvider({ db: database.db, secrets: base.secrets, config: base.config, userData: async (input) => `#cloud-config\n# ${input.nodeId}\n` });
  rt = { ...base, provider: routedProvider([localProvider({ dataDir: database.dir }), hetzner], "hetzner") };
  await database.db.insert(users).values({ id: "u1", email: "ada@example.test", name: "Ada" });
  await putSecret(database.db, rt.secrets, "u1", "HETZNER_TOKEN", TOKEN);
}, 60_000);
afterAll(async () => {
  await double?.close();
  await database?.close();
});

describe("provisioning a task's node on Hetzner", () => {
  it("sleeps and tries again when Hetzner fails for a while (503), backing off, and then creates the server", async () => {
    const { taskId, nodeId } = await taskOnNewNode();
    double.inject("POST /servers", { status: 503, code: "unavailable", message: "service unavailable" }, 2);
    const before = Date.now();
    const first = await provisionNodeStage(rt, taskId, nodeId, 0, 0);
    expect("retryAt" in first && Date.parse(first.retryAt) - before).toBeGreaterThanOrEqual(10_000);
    // The lease is given back, so the next try may call the provider at once.
    expect((await nodeOf(nodeId)).provisionLeaseUntil).toBeNull();
    const second = await provisionNodeStage(rt, taskId, nodeId, 0, 1);
    // Each next wait doubles.
    expect("retryAt" in second && Date.parse(second.retryAt) - before).toBeGreaterThanOrEqual(20_000);
    const recorded = await database.db.select().from(errors).where(eq(errors.taskId, taskId));
    expect(recorded.map((e) => e.kind)).toEqual(["recovery", "recovery"]);
    expect(recorded[0]!.message).toMatch(/answered 503 unavailable: service unavailable; trying again at .* \(retry 1 of NODE_PROVISIONING_RETRIES=2\)/);

    expect(await provisionNodeStage(rt, taskId, nodeId, 0, 2)).toEqual({ started: true });
    const node = await nodeOf(nodeId);
    expect(double.servers().map((s) => String(s.id))).toContain(node.providerServerId);
  });

  it("gives up after NODE_PROVISIONING_RETRIES: the node is lost and the error, now permanent, says how often it was tried", async () => {
    const { taskId, nodeId } = await taskOnNewNode();
    double.inject("POST /servers", { status: 502, code: "bad_gateway", message: "bad gateway" });
    const error = await failure(provisionNodeStage(rt, taskId, nodeId, 0, 2));
    expect(error.retriable).toBe(false);
    expect(error.message).toMatch(/answered 502 bad_gateway: bad gateway \(still failing after 3 tries; NODE_PROVISIONING_RETRIES=2\)/);
    const node = await nodeOf(nodeId);
    expect(node.status).toBe("stopped");
    expect(node.errorMessage).toContain("its machine could not be created");
    expect(rt.sent).toContainEqual({ name: "node/lost", data: { taskId, nodeId } });
  });

  it("fails at once with the API's message when Hetzner refuses for good (the project's quota), and loses the node", async () => {
    const { taskId, nodeId } = await taskOnNewNode();
    double.inject("POST /servers", { status: 403, code: "resource_limit_exceeded", message: "server limit exceeded" });
    const error = await failure(provisionNodeStage(rt, taskId, nodeId, 0, 0));
    expect(error).toMatchObject({ code: "resource_limit_exceeded", status: 403, retriable: false });
    expect(error.message).toContain("answered 403 resource_limit_exceeded: server limit exceeded");
    expect((await nodeOf(nodeId)).status).toBe("stopped");
  });

  it("ends the wait for the node at once when its server is powered off, and deletes the server", async () => {
    const { taskId, nodeId } = await taskOnNewNode();
    await provisionNodeStage(rt, taskId, nodeId, 0, 0);
    const { providerServerId } = await nodeOf(nodeId);
    // Still initializing: the wait goes on.
    expect(await nodeReadiness(rt, taskId, nodeId, 0)).toBe(PENDING);

    await fetch(`${double.url}/servers/${providerServerId}/actions/poweroff`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(await nodeReadiness(rt, taskId, nodeId, 0)).toBe(LOST);
    const node = await nodeOf(nodeId);
    expect(node).toMatchObject({ status: "stopped" });
    expect(node.errorMessage).toContain(`its hetzner machine ${providerServerId} is powered off`);
    expect(double.servers().map((s) => String(s.id))).not.toContain(providerServerId);
  });

  it("deletes, at the safety net's next pass, the server of a lost node that Hetzner would not delete then", async () => {
    const { taskId, nodeId } = await taskOnNewNode();
    await provisionNodeStage(rt, taskId, nodeId, 0, 0);
    const { providerServerId } = await nodeOf(nodeId);
    await fetch(`${double.url}/servers/${providerServerId}/actions/poweroff`, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` } });
    double.inject("DELETE /servers/{id}", { status: 503, code: "unavailable", message: "service unavailable" });
    await expect(nodeReadiness(rt, taskId, nodeId, 0)).rejects.toThrow(/503 unavailable/);
    // Lost, but its server still bills: the node keeps `error` until the server is deleted.
    expect((await nodeOf(nodeId)).status).toBe("error");
    expect(await nodeReadiness(rt, taskId, nodeId, 0)).toBe(LOST);

    expect(await destroyLostNodes(rt, Date.now() + 120_000)).toEqual([nodeId]);
    expect((await nodeOf(nodeId)).status).toBe("stopped");
    expect(double.servers().map((s) => String(s.id))).not.toContain(providerServerId);
  });

  it("waits out Hetzner's rate limit until a request has come back (from the RateLimit-* headers)", async () => {
    const { taskId, nodeId } = await taskOnNewNode();
    double.exhaustRateLimit();
    const before = Date.now();
    const outcome = await provisionNodeStage(rt, taskId, nodeId, 0, 0);
    // 3600 an hour come back one a second: about a second, not the hour until RateLimit-Reset.
    expect("retryAt" in outcome && Date.parse(outcome.retryAt) - before).toBeGreaterThanOrEqual(1_000);
    expect("retryAt" in outcome && Date.parse(outcome.retryAt) - before).toBeLessThan(5_000);
    const [recorded] = await database.db.select().from(errors).where(eq(errors.taskId, taskId));
    expect(recorded!.message).toContain("429 rate_limit_exceeded");
  });
});
