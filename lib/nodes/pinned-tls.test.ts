/**
 * TLS pinning (issue 11): every call to a node goes to the certificate its ready callback reported.
 * A real vm-agent answers when pinned; a node presenting another certificate is refused, with an
 * error naming the node and both fingerprints that no retry can cure, and before any request
 * reaches it: even a daemon that holds the node's id and trusts the control plane's key, at the
 * node's very address.
 */
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, startTestAgent, testKey } from "@/vm-agent/test-support";
import { loadOrCreateTlsIdentity } from "@/vm-agent/tls";
import { freePort } from "../net";
import { probeNode } from "./health";
import { clientForNode, VmAgentRequestError } from "./vm-agent-client";

const closers: (() => Promise<unknown> | unknown)[] = [];
let key: Awaited<ReturnType<typeof testKey>>;
let receiverUrl: string;

const deps = () => ({ keys: key.key, config: { NODE_MANAGEMENT_TOKEN_TTL: 60_000, VM_AGENT_REQUEST_TIMEOUT: 5_000, NODE_HEALTH_PROBE_TIMEOUT: 5_000 } });

beforeAll(async () => {
  const receiver = await startReceiver();
  closers.push(receiver.close);
  receiverUrl = receiver.url;
  key = await testKey();
});
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

/** The refusal a call ends in (it must end in one). */
async function refusal(call: Promise<unknown>): Promise<VmAgentRequestError> {
  const error = await call.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VmAgentRequestError);
  return error as VmAgentRequestError;
}

describe("a call to a node", () => {
  it("is answered over the certificate pinned at ready", async () => {
    const agent = await startTestAgent(receiverUrl, { key });
    closers.push(agent.close);
    const node = { id: agent.config.NODE_ID, endpoint: agent.base, certificateFingerprint: agent.certificateFingerprint };
    expect(await clientForNode(deps(), node).health()).toMatchObject({ status: "ok", nodeId: node.id });
    expect(await probeNode(deps(), node)).toBe(true);
  });

  it("is refused when another daemon, with the node's id and key but another certificate, serves at the node's address", async () => {
    const original = await startTestAgent(receiverUrl, { key });
    const node = { id: original.config.NODE_ID, endpoint: original.base, certificateFingerprint: original.certificateFingerprint };
    const port = Number(new URL(original.base).port);
    await original.close();
    const impostor = await startTestAgent(receiverUrl, { key, NODE_ID: node.id, VM_AGENT_PORT: port });
    closers.push(impostor.close);
    expect(impostor.base).toBe(node.endpoint);
    expect(impostor.certificateFingerprint).not.toBe(node.certificateFingerprint);

    const error = await refusal(clientForNode(deps(), node).health());
    expect(error.message).toContain(`node ${node.id}`);
    expect(error.message).toContain(impostor.certificateFingerprint);
    expect(error.message).toContain(node.certificateFingerprint);
    // Not a network hiccup to retry forever: the run fails at once with this message (inngest/errors.ts).
    expect(error).toMatchObject({ permanent: true, status: undefined });
    expect(await probeNode(deps(), node)).toBe(false);
    // Everything else about it would pass: pinned to its own certificate, it answers as the node.
    expect(await clientForNode(deps(), { ...node, certificateFingerprint: impostor.certificateFingerprint }).health()).toMatchObject({ nodeId: node.id });
  });

  it("sends not one request to a server presenting another certificate", async () => {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "pinned-tls-"));
    closers.push(() => fs.rmSync(workDir, { recursive: true, force: true }));
    const [pinned, presented] = await Promise.all([
      loadOrCreateTlsIdentity({ workDir: path.join(workDir, "a"), nodeId: "n_pin", lifetimeMs: 60_000 }),
      loadOrCreateTlsIdentity({ workDir: path.join(workDir, "b"), nodeId: "n_pin", lifetimeMs: 60_000 }),
    ]);
    const requests: string[] = [];
    const server = https.createServer({ key: presented.key, cert: presented.certificate }, (request, response) => {
      requests.push(`${request.method} ${request.url} ${request.headers.authorization ?? ""}`);
      response.end("{}");
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    closers.push(() => new Promise((resolve) => server.close(resolve)));
    const endpoint = `https://127.0.0.1:${(server.address() as { port: number }).port}`;

    const client = clientForNode(deps(), { id: "n_pin", endpoint, certificateFingerprint: pinned.fingerprint });
    const error = await refusal(client.createWorkspace({ workspaceId: "w_1", taskId: "t_1", repository: "/r", branch: "agents/x", callbackToken: "secret", secrets: { GITHUB_TOKEN: "ghp_secret" } }));
    expect(error.message).toMatch(new RegExp(`node n_pin presented the TLS certificate ${presented.fingerprint}, not its pinned ${pinned.fingerprint}`));
    expect(requests).toEqual([]);
  });

  it("is not made to a node with no pinned certificate yet, nor over plain http", async () => {
    const agent = await startTestAgent(receiverUrl, { key });
    closers.push(agent.close);
    const node = { id: agent.config.NODE_ID, endpoint: agent.base, certificateFingerprint: agent.certificateFingerprint };
    expect(() => clientForNode(deps(), { ...node, certificateFingerprint: null })).toThrow(`node ${node.id} has no pinned TLS certificate yet`);
    const plain = await refusal(clientForNode(deps(), { ...node, endpoint: agent.base.replace("https:", "http:") }).health());
    expect(plain).toMatchObject({ permanent: true, message: expect.stringContaining(`node ${node.id} did not present a TLS certificate`) });
  });

  it("to a node that does not answer fails as unreachable, worth a retry", async () => {
    const error = await refusal(clientForNode(deps(), { id: "n_dark", endpoint: `https://127.0.0.1:${await freePort()}`, certificateFingerprint: Array.from({ length: 32 }, () => "AB").join(":") }).health());
    expect(error).toMatchObject({ permanent: false, status: undefined, message: expect.stringMatching(/^node n_dark unreachable: .*ECONNREFUSED/) });
  });
});
