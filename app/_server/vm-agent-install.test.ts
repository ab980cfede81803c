/**
 * The node installer end to end, without a cloud: the rendered cloud-init is parsed as YAML, its
 * files are written under a throwaway root and its commands run there against a stand-in control
 * plane whose download and enrollment routes are the real route handlers over a real database (the
 * user data holds a one-time enrollment token, which the installer exchanges for the node's callback
 * token); then the installed unit is started the way systemd would, and the bundled daemon (no tsx,
 * no node_modules) must post its /ready callback with that token.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as getArtifact } from "@/app/api/vm-agent/artifact/route";
import { GET as getInstaller } from "@/app/api/vm-agent/install.sh/route";
import { GET as getManifest } from "@/app/api/vm-agent/manifest/route";
import { GET as getRuntime } from "@/app/api/vm-agent/runtime/route";
import { POST as enrollNode } from "@/app/api/nodes/[id]/enroll/route";
import { runtime } from "@/inngest/runtime";
import { nodes } from "@/db/schema";
import type { NodeStatus } from "@/lib/contracts/statuses";
import { signNodeCallbackToken, verifyNodeCallbackToken } from "@/lib/auth/tokens";
import { bearerToken } from "@/lib/contracts/tokens";
import { CONTRACT_VERSION, VM_AGENT_CAPABILITIES, callbackPaths } from "@/lib/contracts/vm-agent";
import { VmAgentDownloads } from "@/lib/contracts/vm-agent-downloads";
import { INSTALL_PARAMS_PATH, INSTALLER_PATH, installParameters, NODE_PACKAGES, renderCloudInit, type CloudInitInput } from "@/lib/nodes/cloud-init";
import { createNodeEnrollment } from "@/lib/nodes/enrollment";
import { pinnedFetch } from "@/lib/nodes/pinned-tls";
import { freePort } from "@/lib/net";
import type { Runtime } from "@/lib/runtime";
import { LOCAL_USER } from "@/lib/users";
import {
  childEnv,
  installLeftovers,
  parseCloudConfig,
  readEnvironmentFile,
  readUnit,
  runCommandsUnder,
  startControlPlaneStandIn,
  startUnit,
  throwawayRoot,
  writeFilesUnder,
} from "@/tests/harness/node-install";

const SERVICE = "agent-control-plane-vm-agent.service";
/**
 * The configuration is read as the app's modules load (inngest/client.ts), so it is set before any
 * import: this file's own database and download cache, and where nodes reach the control plane (the
 * stand-in's port).
 */
const { dataDir, cacheDir, appPort } = await vi.hoisted(async () => {
  // lib/net.ts reads no configuration, so it may load this early.
  const [{ mkdtempSync }, { tmpdir }, { join }, { freePort }] = await Promise.all([import("node:fs"), import("node:os"), import("node:path"), import("@/lib/net")]);
  const settings = { dataDir: mkdtempSync(join(tmpdir(), "acp-install-data-")), cacheDir: mkdtempSync(join(tmpdir(), "acp-artifact-cache-")), appPort: await freePort() };
  Object.assign(process.env, { DATA_DIR: settings.dataDir, VM_AGENT_CACHE_DIR: settings.cacheDir, APP_URL: `http://127.0.0.1:${settings.appPort}` });
  return settings;
});

type NodeRoute = (request: Request, context: { params: Promise<{ id: string }> }) => Promise<Response>;
/** A node route as Next calls it: with the id from its path. */
const withNodeId = (route: NodeRoute) => (request: Request) => route(request, { params: Promise.resolve({ id: new URL(request.url).pathname.split("/")[3]! }) });

type ReadyCall = { nodeId: string; body: Record<string, unknown> };
const readyCalls: ReadyCall[] = [];
const readyWaiters: { nodeId: string; resolve: (call: ReadyCall) => void }[] = [];
let rt: Runtime;
let publicJwk: CloudInitInput["publicJwk"];
let standIn: Awaited<ReturnType<typeof startControlPlaneStandIn>>;
let downloads: VmAgentDownloads;
let installer: string;
const leftovers = installLeftovers();
const { roots, units, nodeIds } = leftovers;

/**
 * What the node's /ready route checks first: a node callback token, signed by this control plane,
 * for this very node (the real route goes on to hold the endpoint to the node's Hetzner server, which
 * this test has none of).
 */
async function acceptReady(request: Request): Promise<Response> {
  const nodeId = /^\/api\/nodes\/([^/]+)\/ready$/.exec(new URL(request.url).pathname)![1]!;
  const token = bearerToken(request.headers.get("authorization"));
  const claimed = token ? await verifyNodeCallbackToken(rt.keys.publicKey, token).catch(() => undefined) : undefined;
  if (claimed?.nodeId !== nodeId) return Response.json({ error: "bad token" }, { status: 401 });
  const call = { nodeId, body: (await request.json()) as Record<string, unknown> };
  readyCalls.push(call);
  for (const waiter of readyWaiters.filter((w) => w.nodeId === nodeId)) waiter.resolve(call);
  return Response.json({ outcome: "applied" });
}

const readyFrom = (nodeId: string) =>
  new Promise<ReadyCall>((resolve) => {
    const seen = readyCalls.find((call) => call.nodeId === nodeId);
    if (seen) resolve(seen);
    else readyWaiters.push({ nodeId, resolve });
  });

/** The real archive with one byte changed. */
async function tamperedArtifact(request: Request): Promise<Response> {
  const bytes = new Uint8Array(await (await getArtifact(request)).arrayBuffer());
  bytes[bytes.length >> 1]! ^= 0xff;
  return new Response(bytes, { headers: { "content-type": "application/gzip" } });
}

beforeAll(async () => {
  rt = await runtime();
  publicJwk = rt.keys.publicJwk;
  standIn = await startControlPlaneStandIn(
    [
      { method: "GET", path: /^\/api\/vm-agent\/artifact$/, handle: getArtifact },
      { method: "GET", path: /^\/api\/vm-agent\/runtime$/, handle: getRuntime },
      { method: "GET", path: /^\/tampered\/artifact$/, handle: tamperedArtifact },
      { method: "POST", path: /^\/api\/nodes\/[^/]+\/enroll$/, handle: withNodeId(enrollNode) },
      { method: "POST", path: /^\/api\/nodes\/[^/]+\/ready$/, handle: acceptReady },
      { method: "POST", path: /^\/api\/nodes\/[^/]+\/heartbeat$/, handle: () => Response.json({ outcome: "applied" }) },
      // A cloud's metadata service, as Hetzner's answers a server its public IPv4.
      { method: "GET", path: /^\/metadata\/public-ipv4$/, handle: () => new Response("127.0.0.1") },
    ],
    appPort,
  );
  downloads = VmAgentDownloads.parse(await (await getManifest(new Request(`${standIn.url}/api/vm-agent/manifest`))).json());
  installer = await (await getInstaller(new Request(`${standIn.url}/api/vm-agent/install.sh`))).text();
}, 120_000);

afterEach(() => leftovers.clean());

afterAll(async () => {
  await standIn?.close();
  await rt?.database.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

type Boot = { root: string; systemctlLog: string } & Awaited<ReturnType<typeof runCommandsUnder>>;
type Install = { nodeId: string; enrollmentToken: string; agentPort: number; text: string } & Boot;

/** Boots a machine from the user data `text`: its files written and its commands run in a new throwaway root. */
async function boot(text: string, env: Record<string, string> = {}): Promise<Boot> {
  const root = throwawayRoot();
  roots.push(root);
  const document = parseCloudConfig(text);
  writeFilesUnder(root, document);
  // This machine has no systemd: systemctl is a script that writes down how it was called.
  const systemctlLog = path.join(root, "systemctl.log");
  const systemctl = path.join(root, "systemctl");
  fs.writeFileSync(systemctl, `#!/bin/sh\necho "$*" >> '${systemctlLog}'\n`, { mode: 0o755 });
  return { root, systemctlLog, ...(await runCommandsUnder(root, document, { PATH: process.env.PATH!, ACP_SYSTEMCTL: systemctl, ...env })) };
}

/** A Hetzner node as the control plane starts one: its row, its enrollment token, its cloud-init; then its machine boots. */
async function install(options: { artifactUrl?: string; runtime?: CloudInitInput["runtime"]; env?: Record<string, string> } = {}): Promise<Install> {
  const nodeId = `install-${nodeIds.length}-${process.pid}-${Date.now()}`;
  nodeIds.push(nodeId);
  await rt.db.insert(nodes).values({ id: nodeId, userId: LOCAL_USER.id, provider: "hetzner", status: "creating" });
  const enrollmentToken = await createNodeEnrollment(rt.db, nodeId, 600_000);
  const agentPort = await freePort();
  const text = renderCloudInit({
    nodeId,
    controlPlaneUrl: standIn.url,
    enrollmentToken,
    publicJwk,
    artifact: { url: options.artifactUrl ?? downloads.vmAgent.url, sha256: downloads.vmAgent.sha256 },
    runtime: options.runtime,
    agentPort,
    agentHost: "127.0.0.1",
    installer,
  });
  return { nodeId, enrollmentToken, agentPort, text, ...(await boot(text, options.env)) };
}

/** The callback token the installer put in the daemon's environment file. */
const callbackTokenOf = (root: string) => readEnvironmentFile(path.join(root, "etc/agent-control-plane/vm-agent.env")).NODE_CALLBACK_TOKEN!;

/** A signed token's form (header.payload, both JSON in base64url): what a node callback token looks like. */
const JWT = /eyJ[A-Za-z0-9_-]+\.eyJ/;
const unitFile = (root: string) => path.join(root, "etc/systemd/system", SERVICE);
const otherArch = process.arch === "x64" ? "arm64" : "x64";

describe("cloud-init", () => {
  it("is a cloud-config document: the distribution's packages, the installer and its root-only parameters with a one-time enrollment token, one command", async () => {
    const token = `acpe_${"t".repeat(43)}`;
    const text = renderCloudInit({
      nodeId: "node-1",
      controlPlaneUrl: "https://cp.example.com",
      enrollmentToken: token,
      publicJwk,
      artifact: downloads.vmAgent,
      runtime: downloads.runtime,
      agentPort: 8443,
      installer,
    });
    const document = parseCloudConfig(text);
    expect(document.package_update).toBe(true);
    expect(document.packages).toEqual([...NODE_PACKAGES]);
    expect(document.packages).toEqual(expect.arrayContaining(["git", "tmux"]));
    const [installerFile, paramsFile] = document.write_files!;
    expect(installerFile).toEqual({ path: INSTALLER_PATH, owner: "root:root", permissions: "0755", content: fs.readFileSync("vm-agent/install/install.sh", "utf8") });
    expect(paramsFile).toMatchObject({ path: INSTALL_PARAMS_PATH, owner: "root:root", permissions: "0600" });
    expect(paramsFile!.content.split("\n")).toEqual(
      expect.arrayContaining([
        "ACP_NODE_ID='node-1'",
        "ACP_CONTROL_PLANE_URL='https://cp.example.com'",
        `ACP_ENROLLMENT_TOKEN='${token}'`,
        `ACP_CONTROL_PLANE_PUBLIC_JWK='${JSON.stringify(publicJwk)}'`,
        `ACP_ARTIFACT_SHA256='${downloads.vmAgent.sha256}'`,
        `ACP_RUNTIME_ARCH='${process.arch}'`,
        "ACP_AGENT_PORT='8443'",
      ]),
    );
    expect(document.runcmd).toEqual([["sh", INSTALLER_PATH]]);
    // The token is in the parameters file and nowhere else of the document; no callback token is in it at all.
    expect(text.split(token).length - 1).toBe(1);
    expect(paramsFile!.content).not.toContain("ACP_NODE_CALLBACK_TOKEN");
    expect(text).not.toMatch(JWT);
  });

  it("takes nothing but an enrollment token: the user data stays readable on the machine", () => {
    const input = { nodeId: "node-1", controlPlaneUrl: "https://cp.example.com", publicJwk, artifact: downloads.vmAgent, agentPort: 1, installer };
    expect(() => renderCloudInit({ ...input, enrollmentToken: "eyJhbGciOiJFUzI1NiJ9.e30.c2ln" })).toThrow(/must be an enrollment token/);
  });

  it("refuses a value that could break out of its quotes", () => {
    const input = { nodeId: "node-1", controlPlaneUrl: "https://cp.example.com", enrollmentToken: `acpe_${"t".repeat(43)}`, publicJwk, artifact: downloads.vmAgent, agentPort: 1, installer };
    expect(() => renderCloudInit({ ...input, agentHost: "a'b" })).toThrow(/quote/);
    expect(() => renderCloudInit({ ...input, agentHost: "a\nb" })).toThrow(/control character/);
  });
});

describe("the installer, run by cloud-init in a throwaway root", () => {
  it("enrolls the node, installs the bundled vm-agent as a systemd service that starts and reports ready", async () => {
    const installed = await install();
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`enrolled node ${installed.nodeId}`);
    // The callback token came from the enrollment route: signed by this control plane for this node, and never in the user data.
    const callbackToken = callbackTokenOf(installed.root);
    expect(await verifyNodeCallbackToken(rt.keys.publicKey, callbackToken)).toEqual({ nodeId: installed.nodeId });
    expect(installed.text).not.toContain(callbackToken);
    expect(installed.text).not.toMatch(JWT);
    const parameters = parseCloudConfig(installed.text).write_files!.find((file) => file.path === INSTALL_PARAMS_PATH)!.content;
    expect(parameters).not.toContain("ACP_NODE_CALLBACK_TOKEN");
    expect(parameters).toContain(`ACP_ENROLLMENT_TOKEN='${installed.enrollmentToken}'`);
    const [row] = await rt.db.select().from(nodes).where(eq(nodes.id, installed.nodeId));
    expect(row!.enrolledAt).toBeInstanceOf(Date);
    expect(fs.readFileSync(installed.systemctlLog, "utf8").trim().split("\n")).toEqual(["daemon-reload", `enable ${SERVICE}`, `restart ${SERVICE}`]);

    const unit = readUnit(unitFile(installed.root));
    const agentDir = path.join(installed.root, "opt/agent-control-plane/vm-agent", downloads.vmAgent.sha256.slice(0, 16));
    expect(unit.execStart).toEqual([expect.stringMatching(/\/node$/), path.join(agentDir, "vm-agent.mjs")]);
    expect(unit.environmentFile).toBe(path.join(installed.root, "etc/agent-control-plane/vm-agent.env"));
    expect(unit.value("Restart")).toBe("always");
    expect(unit.value("KillMode")).toBe("process");
    expect(unit.value("CapabilityBoundingSet")).toBe(VM_AGENT_CAPABILITIES.map((name) => `CAP_${name.toUpperCase()}`).join(" "));
    expect(fs.statSync(unit.environmentFile).mode & 0o777).toBe(0o600);
    // The callback token went from the enrollment's answer (in the parameters file, now gone) to the daemon's environment file only.
    expect(fs.existsSync(path.join(installed.root, INSTALL_PARAMS_PATH))).toBe(false);
    expect(fs.readFileSync(unitFile(installed.root), "utf8")).not.toContain(callbackToken);
    for (const token of [callbackToken, installed.enrollmentToken]) {
      expect(JSON.stringify(installed.commands)).not.toContain(token);
      expect(installed.stdout + installed.stderr).not.toContain(token);
    }
    // The spent enrollment token is not the daemon's to know.
    expect(fs.readFileSync(unit.environmentFile, "utf8")).not.toMatch(/ENROLLMENT|acpe_/);

    // Nothing of the repository is on the daemon's way: no tsx, no node_modules above its folder.
    for (let dir = agentDir; dir !== path.dirname(dir); dir = path.dirname(dir)) expect(fs.existsSync(path.join(dir, "node_modules")), dir).toBe(false);
    const daemon = startUnit(unit, path.join(installed.root, "vm-agent.log"));
    units.push(daemon);
    const ready = await readyFrom(installed.nodeId);
    expect(ready.body).toMatchObject({ endpoint: `https://127.0.0.1:${installed.agentPort}`, contractVersion: CONTRACT_VERSION });
    expect(fs.readFileSync(`/proc/${daemon.pid}/cmdline`, "utf8")).not.toContain(callbackToken);
    // It serves HTTPS with the certificate it reported.
    const pin = { id: installed.nodeId, certificateFingerprint: String(ready.body.certificateFingerprint) };
    const health = await pinnedFetch(pin, new URL(`https://127.0.0.1:${installed.agentPort}/health`));
    expect(await health.json()).toEqual({ status: "ok" });
    expect(callbackPaths.nodeReady(installed.nodeId)).toBe(`/api/nodes/${installed.nodeId}/ready`);

    // The helpers the daemon runs by path are where it looks for them, and run with its Node.
    const scratch = fs.mkdtempSync(path.join(installed.root, "scratch-"));
    execFileSync(unit.execStart[0]!, [path.join(agentDir, "agents/script-agent.mjs")], { cwd: scratch, env: childEnv({ PATH: process.env.PATH!, AGENT_PROMPT: "hello" }) });
    expect(fs.readdirSync(path.join(scratch, ".agent/tasks"))).toEqual(["hello.md"]);
    execFileSync(unit.execStart[0]!, [path.join(agentDir, "purge-node-users.mjs"), installed.nodeId], { env: childEnv({ PATH: process.env.PATH! }) });
  });

  it("fetches the control plane's own Node where the machine's is too old, and the daemon runs on it", async () => {
    expect(downloads.runtime, "this control plane offers no Node (not Linux on x64 or arm64)").toBeDefined();
    const installed = await install({ runtime: downloads.runtime, env: { ACP_NODE_MIN_VERSION: "99.0" } });
    expect(installed.code, installed.stderr).toBe(0);
    const unit = readUnit(unitFile(installed.root));
    expect(unit.execStart[0]).toBe(path.join(installed.root, "opt/agent-control-plane/node", downloads.runtime!.sha256.slice(0, 16), "bin/node"));
    units.push(startUnit(unit, path.join(installed.root, "vm-agent.log")));
    expect((await readyFrom(installed.nodeId)).body).toMatchObject({ endpoint: `https://127.0.0.1:${installed.agentPort}` });
  });

  it("is the same script a machine someone owns runs by hand, with the parameters in its environment", async () => {
    const root = throwawayRoot();
    roots.push(root);
    const nodeId = "by-hand";
    const token = await signNodeCallbackToken(rt.keys, { nodeId }, 600_000);
    const parameters = installParameters({ nodeId, controlPlaneUrl: standIn.url, nodeCallbackToken: token, publicJwk, artifact: downloads.vmAgent, agentPort: 1 });
    const script = path.join(root, "install.sh");
    fs.writeFileSync(script, installer);
    const result = await runCommandsUnder(root, { runcmd: [["sh", script]] }, { PATH: process.env.PATH!, ACP_SYSTEMCTL: "true", ...parameters });
    expect(result.code, result.stderr).toBe(0);
    const unit = readUnit(unitFile(root));
    expect(unit.execStart[1]).toBe(path.join(root, "opt/agent-control-plane/vm-agent", downloads.vmAgent.sha256.slice(0, 16), "vm-agent.mjs"));
    expect(fs.readFileSync(unit.environmentFile, "utf8")).toContain(`NODE_CALLBACK_TOKEN='${token}'`);
  });

  it("reads the address its daemon reports from the cloud's metadata service when it listens on every address", async () => {
    const installed = await install({ env: { ACP_AGENT_HOST: "0.0.0.0", ACP_AGENT_PUBLIC_HOST_URL: `${standIn.url}/metadata/public-ipv4` } });
    expect(installed.code, installed.stderr).toBe(0);
    const unit = readUnit(unitFile(installed.root));
    expect(fs.readFileSync(unit.environmentFile, "utf8")).toContain("VM_AGENT_PUBLIC_HOST='127.0.0.1'");
    units.push(startUnit(unit, path.join(installed.root, "vm-agent.log")));
    // It listens on 0.0.0.0 and reports the address the control plane can reach and check.
    expect((await readyFrom(installed.nodeId)).body).toMatchObject({ endpoint: `https://127.0.0.1:${installed.agentPort}` });
  });

  it("refuses an archive whose sha256 is not the expected one, and installs nothing", async () => {
    const installed = await install({ artifactUrl: `${standIn.url}/tampered/artifact` });
    expect(installed.code).not.toBe(0);
    expect(installed.stderr).toMatch(/refusing .*\/tampered\/artifact: its sha256 is [0-9a-f]{64}, not the expected/);
    expect(fs.existsSync(unitFile(installed.root))).toBe(false);
    expect(fs.readdirSync(path.join(installed.root, "opt/agent-control-plane"))).toEqual(["install.sh"]);
    // Its parameters stay for another try (root-only), with the callback token the enrollment answered.
    const params = path.join(installed.root, INSTALL_PARAMS_PATH);
    expect(fs.statSync(params).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(params, "utf8")).toMatch(/^ACP_NODE_CALLBACK_TOKEN='[^']+'$/m);
    // Run again on the same machine, it goes on with them: it does not ask to enroll a second time.
    const again = await runCommandsUnder(installed.root, parseCloudConfig(installed.text), { PATH: process.env.PATH!, ACP_SYSTEMCTL: "true" });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`going on with the enrollment saved in ${params} (node ${installed.nodeId})`);
    expect(again.stderr).not.toContain("enrolling");
    expect(again.stderr).toMatch(/refusing .*\/tampered\/artifact/);
  });

  it("is refused when the same user data boots again: the enrollment token worked once, and nothing is installed", async () => {
    const installed = await install();
    expect(installed.code, installed.stderr).toBe(0);
    const [row] = await rt.db.select().from(nodes).where(eq(nodes.id, installed.nodeId));
    const again = await boot(installed.text);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`the control plane refused to enroll node ${installed.nodeId} (HTTP 410): node ${installed.nodeId} enrolled at ${row!.enrolledAt!.toISOString()}`);
    expect(fs.existsSync(unitFile(again.root))).toBe(false);
    expect(fs.existsSync(path.join(again.root, "etc/agent-control-plane/vm-agent.env"))).toBe(false);
    expect(fs.readFileSync(path.join(again.root, INSTALL_PARAMS_PATH), "utf8")).not.toContain("ACP_NODE_CALLBACK_TOKEN");
  });

  it("is refused, saying why, with an enrollment token that is not its node's", async () => {
    const installed = await install();
    expect(installed.code, installed.stderr).toBe(0);
    const forged = installed.text.replace(installed.enrollmentToken, `acpe_${"A".repeat(43)}`);
    const again = await boot(forged);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(`the control plane refused to enroll node ${installed.nodeId} (HTTP 401): this enrollment token is not node ${installed.nodeId}'s`);
    expect(fs.existsSync(unitFile(again.root))).toBe(false);
  });

  it("refuses the control plane's Node for another CPU, saying why", async () => {
    const installed = await install({ runtime: { ...downloads.runtime!, arch: otherArch }, env: { ACP_NODE_MIN_VERSION: "99.0" } });
    expect(installed.code).not.toBe(0);
    expect(installed.stderr).toContain(`the control plane's Node is for ${otherArch}, not this ${os.machine()} CPU`);
    expect(fs.existsSync(unitFile(installed.root))).toBe(false);
  });
});

describe("POST /api/nodes/{id}/enroll", () => {
  const call = (nodeId: string, body: string) =>
    withNodeId(enrollNode)(new Request(`${standIn.url}/api/nodes/${nodeId}/enroll`, { method: "POST", headers: { "content-type": "application/json" }, body }));
  const problem = async (response: Response) => ({ status: response.status, ...((await response.json()) as { error: string; field?: string }) });
  const node = async (status: NodeStatus = "creating", ttlMs = 600_000) => {
    const nodeId = `enroll-${nodeIds.length}-${Date.now()}`;
    nodeIds.push(nodeId);
    await rt.db.insert(nodes).values({ id: nodeId, userId: LOCAL_USER.id, provider: "hetzner", status });
    return { nodeId, token: await createNodeEnrollment(rt.db, nodeId, ttlMs) };
  };

  it("answers the node's callback token once, as a parameters line; then 410", async () => {
    const { nodeId, token } = await node();
    const response = await call(nodeId, JSON.stringify({ token }));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(response.headers.get("cache-control")).toBe("no-store");
    const match = /^ACP_NODE_CALLBACK_TOKEN='([^'\\\n]+)'\n$/.exec(await response.text());
    expect(match).not.toBeNull();
    expect(await verifyNodeCallbackToken(rt.keys.publicKey, match![1]!)).toEqual({ nodeId });
    expect(await problem(await call(nodeId, JSON.stringify({ token })))).toMatchObject({ status: 410, field: "token", error: expect.stringMatching(/enrolled at .*works once/) });
  });

  it("answers 4xx naming the field, never a 500", async () => {
    const { nodeId, token } = await node();
    expect(await problem(await call(nodeId, "{"))).toMatchObject({ status: 400, field: "body" });
    expect(await problem(await call(nodeId, "{}"))).toMatchObject({ status: 422, field: "token" });
    expect(await problem(await call(nodeId, JSON.stringify({ token: `acpm_${"A".repeat(43)}` })))).toMatchObject({ status: 422, field: "token", error: expect.stringMatching(/must be an enrollment token/) });
    expect(await problem(await call("not%20an%20id", JSON.stringify({ token })))).toMatchObject({ status: 400, field: "id" });
    // None of these spent it.
    expect((await call(nodeId, JSON.stringify({ token }))).status).toBe(200);
  });

  it("401 for a token that is not the node's, 410 for an expired one, 404 for a node that is stopped", async () => {
    const other = await node();
    const { nodeId } = await node();
    expect(await problem(await call(nodeId, JSON.stringify({ token: other.token })))).toMatchObject({ status: 401, field: "token", error: expect.stringMatching(/is not node .*'s/) });
    const expired = await node("creating", -1);
    expect(await problem(await call(expired.nodeId, JSON.stringify({ token: expired.token })))).toMatchObject({ status: 410, field: "token", error: expect.stringMatching(/expired at/) });
    const stopped = await node("stopped");
    expect(await problem(await call(stopped.nodeId, JSON.stringify({ token: stopped.token })))).toMatchObject({ status: 404, field: "id", error: `node ${stopped.nodeId} is stopped: it may not enroll any more` });
  });
});
