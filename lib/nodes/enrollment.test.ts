/**
 * Cloud nodes' enrollment against PGlite with the real modules: the one-time token (hashed at rest,
 * its own node only, single use, expiry), the callback token it is exchanged for, and which nodes
 * get one instead of their callback token when they are started.
 */
import { eq } from "drizzle-orm";
import { decodeJwt } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nodeEnrollments, nodes, users } from "@/db/schema";
import type { NodeStatus } from "../contracts/statuses";
import { openTestDatabase } from "@/tests/harness/test-database";
import { testRuntime } from "@/tests/harness/runtime";
import { rejectionOf } from "@/tests/harness/rejection";
import { secretTokenHash } from "../auth/secret-tokens";
import { verifyNodeCallbackToken } from "../auth/tokens";
import { EnrollmentToken } from "../contracts/api";
import type { Runtime } from "../runtime";
import { createNodeEnrollment, enrollNode, NodeEnrollmentError, type NodeEnrollmentRefusal } from "./enrollment";
import { getNode, startNodeDaemon } from "./lifecycle";
import type { CreateNodeInput, NodeProvider } from "./provider";
import { routedProvider } from "./providers/routed";

const HOUR = 3_600_000;
const CALLBACK_TTL = 6 * HOUR;

let database: Awaited<ReturnType<typeof openTestDatabase>>;
let rt: Runtime;
let n = 0;

beforeAll(async () => {
  database = await openTestDatabase();
  rt = await testRuntime(database);
  await database.db.insert(users).values({ id: "u1", email: "ada@example.test", name: "Ada" });
}, 60_000);
afterAll(async () => database?.close());

async function nodeRow(status: NodeStatus = "creating", provider = "hetzner") {
  const id = `n_enroll_${++n}`;
  await database.db.insert(nodes).values({ id, userId: "u1", provider, status });
  return id;
}
const enroll = (nodeId: string, token: string) => enrollNode({ db: database.db, keys: rt.keys, callbackTtlMs: CALLBACK_TTL }, nodeId, token);
const refusal = async (call: Promise<unknown>): Promise<{ refusal: NodeEnrollmentRefusal; message: string }> => {
  const error = await rejectionOf(call, NodeEnrollmentError);
  return { refusal: error.refusal, message: error.message };
};
const enrolledAt = async (nodeId: string) => (await getNode(database.db, nodeId))!.enrolledAt;

describe("a node's enrollment token", () => {
  it("is kept as its hash only, and is exchanged once for a callback token of its own node, valid for the callback TTL", async () => {
    const nodeId = await nodeRow();
    const token = await createNodeEnrollment(database.db, nodeId, HOUR);
    expect(EnrollmentToken.safeParse(token).success).toBe(true);
    const rows = await database.db.select().from(nodeEnrollments).where(eq(nodeEnrollments.nodeId, nodeId));
    expect(rows).toEqual([expect.objectContaining({ tokenHash: secretTokenHash(token) })]);
    expect(JSON.stringify(rows)).not.toContain(token.slice(5));
    expect(rows[0]!.expiresAt.getTime() - Date.now()).toBeGreaterThan(HOUR - 60_000);

    const answer = await enroll(nodeId, token);
    const callbackToken = answer.parameters.ACP_NODE_CALLBACK_TOKEN!;
    expect(answer.text).toBe(`ACP_NODE_CALLBACK_TOKEN='${callbackToken}'\n`);
    expect(Object.keys(answer.parameters)).toEqual(["ACP_NODE_CALLBACK_TOKEN"]);
    expect(await verifyNodeCallbackToken(rt.keys.publicKey, callbackToken)).toEqual({ nodeId });
    const lifetime = decodeJwt(callbackToken).exp! * 1000 - Date.now();
    expect(lifetime).toBeGreaterThan(CALLBACK_TTL - 60_000);
    expect(lifetime).toBeLessThanOrEqual(CALLBACK_TTL + 1_000);
    expect(await enrolledAt(nodeId)).toBeInstanceOf(Date);
  });

  it("is refused the second time (410's `used`), and the node's first enrollment spends every other token it had", async () => {
    const nodeId = await nodeRow();
    // A provisioning step that ran again minted a second token; the machine booted with the first.
    const first = await createNodeEnrollment(database.db, nodeId, HOUR);
    const second = await createNodeEnrollment(database.db, nodeId, HOUR);
    await enroll(nodeId, first);
    const when = await enrolledAt(nodeId);

    const again = await refusal(enroll(nodeId, first));
    expect(again.refusal).toBe("used");
    expect(again.message).toBe(`node ${nodeId} enrolled at ${when!.toISOString()}: its enrollment token works once, at the node's first boot (an install run again there goes on with the parameters it saved)`);
    expect((await refusal(enroll(nodeId, second))).refusal).toBe("used");
    expect(await enrolledAt(nodeId)).toEqual(when);
  });

  it("is refused once expired, and the node stays unenrolled", async () => {
    const nodeId = await nodeRow();
    const token = await createNodeEnrollment(database.db, nodeId, -1);
    const expired = await refusal(enroll(nodeId, token));
    expect(expired.refusal).toBe("expired");
    expect(expired.message).toMatch(/^this enrollment token expired at \d{4}-\d\d-\d\dT.*NODE_ENROLLMENT_TTL/);
    expect(await enrolledAt(nodeId)).toBeNull();
  });

  it("is refused when it is not one (`unknown`), and a wrong token spends nothing", async () => {
    const nodeId = await nodeRow();
    const token = await createNodeEnrollment(database.db, nodeId, HOUR);
    const wrong = await refusal(enroll(nodeId, `acpe_${"A".repeat(43)}`));
    expect(wrong).toEqual({ refusal: "unknown", message: `this enrollment token is not node ${nodeId}'s: the installer sends the one in its node's cloud-init` });
    expect((await refusal(enroll("n_nosuchnode", token))).refusal).toBe("unknown");
    expect(await enrolledAt(nodeId)).toBeNull();
    await enroll(nodeId, token);
  });

  it("enrolls its own node only: node A's token does not enroll node B, nor spend A's", async () => {
    const a = await nodeRow();
    const b = await nodeRow();
    const tokenOfA = await createNodeEnrollment(database.db, a, HOUR);
    await createNodeEnrollment(database.db, b, HOUR);
    expect((await refusal(enroll(b, tokenOfA))).refusal).toBe("unknown");
    expect(await enrolledAt(b)).toBeNull();
    expect(await enrolledAt(a)).toBeNull();
    expect((await enroll(a, tokenOfA)).parameters.ACP_NODE_CALLBACK_TOKEN).toBeDefined();
  });

  it("is refused for a node that is stopped or lost (`gone`)", async () => {
    for (const status of ["stopping", "stopped", "error"] satisfies NodeStatus[]) {
      const nodeId = await nodeRow(status);
      const token = await createNodeEnrollment(database.db, nodeId, HOUR);
      expect(await refusal(enroll(nodeId, token))).toEqual({ refusal: "gone", message: `node ${nodeId} is ${status}: it may not enroll any more` });
      expect(await enrolledAt(nodeId)).toBeNull();
    }
  });

  it("enrolls once when two requests race with the same token", async () => {
    const nodeId = await nodeRow();
    const token = await createNodeEnrollment(database.db, nodeId, HOUR);
    const results = await Promise.allSettled([enroll(nodeId, token), enroll(nodeId, token)]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const [refused] = results.filter((r) => r.status === "rejected");
    expect((refused as PromiseRejectedResult).reason).toMatchObject({ refusal: "used" });
  });
});

describe("starting a node's daemon", () => {
  /** A provider that records what it was asked to create. */
  const recording = (name: string, traits: Pick<NodeProvider, "bootsFromUserData" | "sharedHost">) => {
    const created: CreateNodeInput[] = [];
    const provider: NodeProvider = {
      name,
      ...traits,
      create: async (input) => {
        created.push(input);
        return { providerServerId: `${name}-${input.nodeId}` };
      },
      checkEndpoint: async () => undefined,
      destroy: async () => undefined,
    };
    return { provider, created };
  };

  it("hands a node whose machine boots from user data an enrollment token for it, and any other node its callback token", async () => {
    const cloud = recording("cloud", { bootsFromUserData: true });
    const local = recording("here", { sharedHost: true });
    // The configured provider creates new nodes; a node of the other is still its own provider's.
    const provider = routedProvider([cloud.provider, local.provider], "here");
    const deps = { db: database.db, provider, keys: rt.keys, controlPlaneUrl: "https://cp.example.test", callbackTtlMs: CALLBACK_TTL, enrollmentTtlMs: HOUR };

    const cloudNode = await nodeRow("creating", "cloud");
    await startNodeDaemon(deps, { id: cloudNode, userId: "u1", provider: "cloud" }, "t_1");
    const [cloudInput] = cloud.created;
    expect(cloudInput!.credential.kind).toBe("enrollment");
    expect(JSON.stringify(cloudInput)).not.toMatch(/eyJ/); // no JWT, the callback token's form, anywhere in it
    const answer = await enroll(cloudNode, cloudInput!.credential.token);
    expect(await verifyNodeCallbackToken(rt.keys.publicKey, answer.parameters.ACP_NODE_CALLBACK_TOKEN!)).toEqual({ nodeId: cloudNode });

    const localNode = await nodeRow("creating", "here");
    await startNodeDaemon(deps, { id: localNode, userId: "u1", provider: "here" });
    const [localInput] = local.created;
    expect(localInput!.credential.kind).toBe("callback");
    expect(await verifyNodeCallbackToken(rt.keys.publicKey, localInput!.credential.token)).toEqual({ nodeId: localNode });
    expect(await database.db.select().from(nodeEnrollments).where(eq(nodeEnrollments.nodeId, localNode))).toEqual([]);
  });
});
