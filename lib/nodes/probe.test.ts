/**
 * The health probe against a real vm-agent: it sends a management token for the node, because the
 * daemon tells an anonymous caller only that it is up, and it goes over the node's pinned certificate.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, startTestAgent, testKey } from "@/vm-agent/test-support";
import { probeNode, type ProbeDeps } from "./health";

const closers: (() => Promise<void>)[] = [];
/** A well-formed fingerprint of no certificate here. */
const OTHER_FINGERPRINT = Array.from({ length: 32 }, () => "AB").join(":");
const pinned = () => ({ id: agent.config.NODE_ID, endpoint: agent.base, certificateFingerprint: agent.certificateFingerprint });
let agent: Awaited<ReturnType<typeof startTestAgent>>;
let deps: ProbeDeps;

beforeAll(async () => {
  const receiver = await startReceiver();
  closers.push(receiver.close);
  const key = await testKey();
  agent = await startTestAgent(receiver.url, { key });
  closers.push(agent.close);
  deps = { keys: key.key, config: { NODE_HEALTH_PROBE_TIMEOUT: 2_000, NODE_MANAGEMENT_TOKEN_TTL: 60_000 } };
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe("probing a node", () => {
  it("gets the details an anonymous caller does not, and counts the answer", async () => {
    const anonymous = await agent.fetch("/health");
    expect(await anonymous.json()).toEqual({ status: "ok" });
    expect(await probeNode(deps, pinned())).toBe(true);
  });

  it("does not count a daemon that serves another node at that address, or one that trusts another key", async () => {
    expect(await probeNode(deps, { ...pinned(), id: "n_elsewhere" })).toBe(false);
    const stranger = await testKey();
    expect(await probeNode({ ...deps, keys: stranger.key }, pinned())).toBe(false);
  });

  it("does not count a node without an endpoint or one that does not answer", async () => {
    expect(await probeNode(deps, { ...pinned(), endpoint: null })).toBe(false);
    expect(await probeNode(deps, { ...pinned(), endpoint: "https://127.0.0.1:1" })).toBe(false);
  });

  it("does not ask a node without a pinned certificate, and does not count one that presents another certificate", async () => {
    expect(await probeNode(deps, { ...pinned(), certificateFingerprint: null })).toBe(false);
    expect(await probeNode(deps, { ...pinned(), certificateFingerprint: OTHER_FINGERPRINT })).toBe(false);
    // Its own certificate, over plain http: no.
    expect(await probeNode(deps, { ...pinned(), endpoint: agent.base.replace("https:", "http:") })).toBe(false);
  });
});
