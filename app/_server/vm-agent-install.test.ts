/**
 * The node installer end to end, without a cloud: the rendered cloud-init is parsed as YAML, its
 * files are written under a throwaway root and its commands run there against a stand-in control
 * plane whose download routes are the real route handlers; then the installed unit is started the
 * way systemd would, and the bundled daemon (no tsx, no node_modules) must post its authenticated
 * /ready callback.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair, type CryptoKey } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { GET as getArtifact } from "@/app/api/vm-agent/artifact/route";
import { GET as getInstaller } from "@/app/api/vm-agent/install.sh/route";
import { GET as getManifest } from "@/app/api/vm-agent/manifest/route";
import { GET as getRuntime } from "@/app/api/vm-agent/runtime/route";
import { bearerToken, signNodeCallbackToken, verifyNodeCallbackToken } from "@/lib/auth/tokens";
import { CONTRACT_VERSION, VM_AGENT_CAPABILITIES, callbackPaths } from "@/lib/contracts/vm-agent";
import { VmAgentDownloads } from "@/lib/contracts/vm-agent-downloads";
import { INSTALL_PARAMS_PATH, INSTALLER_PATH, installParameters, NODE_PACKAGES, renderCloudInit, type CloudInitInput } from "@/lib/nodes/cloud-init";
import { pinnedFetch } from "@/lib/nodes/pinned-tls";
import { freePort } from "@/lib/net";
import {
  childEnv,
  installLeftovers,
  parseCloudConfig,
  readUnit,
  runCommandsUnder,
  startControlPlaneStandIn,
  startUnit,
  throwawayRoot,
  writeFilesUnder,
} from "@/tests/harness/node-install";

const SERVICE = "agent-control-plane-vm-agent.service";
// The downloads are built into a cache of this file's own (read when the routes first read the configuration).
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-artifact-cache-"));
process.env.VM_AGENT_CACHE_DIR = cacheDir;

type ReadyCall = { nodeId: string; body: Record<string, unknown> };
const readyCalls: ReadyCall[] = [];
const readyWaiters: { nodeId: string; resolve: (call: ReadyCall) => void }[] = [];
let publicKey: CryptoKey;
let signingKey: { kid: string; privateKey: CryptoKey };
let publicJwk: CloudInitInput["publicJwk"];
let standIn: Awaited<ReturnType<typeof startControlPlaneStandIn>>;
let downloads: VmAgentDownloads;
let installer: string;
const leftovers = installLeftovers();
const { roots, units, nodeIds } = leftovers;

/** What the node's /ready route checks: a node callback token for this very node. */
async function acceptReady(request: Request): Promise<Response> {
  const nodeId = /^\/api\/nodes\/([^/]+)\/ready$/.exec(new URL(request.url).pathname)![1]!;
  const token = bearerToken(request.headers.get("authorization"));
  const claimed = token ? await verifyNodeCallbackToken(publicKey, token).catch(() => undefined) : undefined;
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
  const pair = await generateKeyPair("ES256", { extractable: true });
  publicKey = pair.publicKey;
  signingKey = { kid: "install-test", privateKey: pair.privateKey };
  publicJwk = await exportJWK(pair.publicKey);
  standIn = await startControlPlaneStandIn([
    { method: "GET", path: /^\/api\/vm-agent\/artifact$/, handle: getArtifact },
    { method: "GET", path: /^\/api\/vm-agent\/runtime$/, handle: getRuntime },
    { method: "GET", path: /^\/tampered\/artifact$/, handle: tamperedArtifact },
    { method: "POST", path: /^\/api\/nodes\/[^/]+\/ready$/, handle: acceptReady },
    { method: "POST", path: /^\/api\/nodes\/[^/]+\/heartbeat$/, handle: () => Response.json({ outcome: "applied" }) },
    // A cloud's metadata service, as Hetzner's answers a server its public IPv4.
    { method: "GET", path: /^\/metadata\/public-ipv4$/, handle: () => new Response("127.0.0.1") },
  ]);
  // Where the manifest says nodes reach the control plane: the stand-in.
  process.env.APP_URL = standIn.url;
  downloads = VmAgentDownloads.parse(await (await getManifest()).json());
  installer = await (await getInstaller(new Request(`${standIn.url}/api/vm-agent/install.sh`))).text();
}, 120_000);

afterEach(() => leftovers.clean());

afterAll(async () => {
  await standIn?.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
});

type Install = { nodeId: string; token: string; root: string; agentPort: number; text: string; systemctlLog: string } & Awaited<ReturnType<typeof runCommandsUnder>>;

/** Renders the node's cloud-init and runs its install steps in a new throwaway root. */
async function install(options: { artifactUrl?: string; runtime?: CloudInitInput["runtime"]; env?: Record<string, string> } = {}): Promise<Install> {
  const nodeId = `install-${nodeIds.length}-${process.pid}-${Date.now()}`;
  nodeIds.push(nodeId);
  const token = await signNodeCallbackToken(signingKey, { nodeId }, 600_000);
  const agentPort = await freePort();
  const text = renderCloudInit({
    nodeId,
    controlPlaneUrl: standIn.url,
    nodeCallbackToken: token,
    publicJwk,
    artifact: { url: options.artifactUrl ?? downloads.vmAgent.url, sha256: downloads.vmAgent.sha256 },
    runtime: options.runtime,
    agentPort,
    agentHost: "127.0.0.1",
    installer,
  });
  const root = throwawayRoot();
  roots.push(root);
  const document = parseCloudConfig(text);
  writeFilesUnder(root, document);
  // This machine has no systemd: systemctl is a script that writes down how it was called.
  const systemctlLog = path.join(root, "systemctl.log");
  const systemctl = path.join(root, "systemctl");
  fs.writeFileSync(systemctl, `#!/bin/sh\necho "$*" >> '${systemctlLog}'\n`, { mode: 0o755 });
  const result = await runCommandsUnder(root, document, { PATH: process.env.PATH!, ACP_SYSTEMCTL: systemctl, ...options.env });
  return { nodeId, token, root, agentPort, text, systemctlLog, ...result };
}

const unitFile = (root: string) => path.join(root, "etc/systemd/system", SERVICE);
const otherArch = process.arch === "x64" ? "arm64" : "x64";

describe("cloud-init", () => {
  it("is a cloud-config document: the distribution's packages, the installer and its root-only parameters, one command", async () => {
    const token = "token-that-must-stay-in-one-file";
    const text = renderCloudInit({
      nodeId: "node-1",
      controlPlaneUrl: "https://cp.example.com",
      nodeCallbackToken: token,
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
        `ACP_NODE_CALLBACK_TOKEN='${token}'`,
        `ACP_CONTROL_PLANE_PUBLIC_JWK='${JSON.stringify(publicJwk)}'`,
        `ACP_ARTIFACT_SHA256='${downloads.vmAgent.sha256}'`,
        `ACP_RUNTIME_ARCH='${process.arch}'`,
        "ACP_AGENT_PORT='8443'",
      ]),
    );
    expect(document.runcmd).toEqual([["sh", INSTALLER_PATH]]);
    // The token is in the parameters file and nowhere else of the document.
    expect(text.split(token).length - 1).toBe(1);
  });

  it("refuses a value that could break out of its quotes", () => {
    const input = { nodeId: "node-1", controlPlaneUrl: "https://cp.example.com", publicJwk, artifact: downloads.vmAgent, agentPort: 1, installer };
    expect(() => renderCloudInit({ ...input, nodeCallbackToken: "a'b" })).toThrow(/quote/);
    expect(() => renderCloudInit({ ...input, nodeCallbackToken: "a\nb" })).toThrow(/control character/);
  });
});

describe("the installer, run by cloud-init in a throwaway root", () => {
  it("installs the bundled vm-agent as a systemd service that starts and reports ready", async () => {
    const installed = await install();
    expect(installed.code, installed.stderr).toBe(0);
    expect(fs.readFileSync(installed.systemctlLog, "utf8").trim().split("\n")).toEqual(["daemon-reload", `enable ${SERVICE}`, `restart ${SERVICE}`]);

    const unit = readUnit(unitFile(installed.root));
    const agentDir = path.join(installed.root, "opt/agent-control-plane/vm-agent", downloads.vmAgent.sha256.slice(0, 16));
    expect(unit.execStart).toEqual([expect.stringMatching(/\/node$/), path.join(agentDir, "vm-agent.mjs")]);
    expect(unit.environmentFile).toBe(path.join(installed.root, "etc/agent-control-plane/vm-agent.env"));
    expect(unit.value("Restart")).toBe("always");
    expect(unit.value("KillMode")).toBe("process");
    expect(unit.value("CapabilityBoundingSet")).toBe(VM_AGENT_CAPABILITIES.map((name) => `CAP_${name.toUpperCase()}`).join(" "));
    expect(fs.statSync(unit.environmentFile).mode & 0o777).toBe(0o600);
    // The token went from the parameters file (now gone) to the daemon's environment file only.
    expect(fs.existsSync(path.join(installed.root, INSTALL_PARAMS_PATH))).toBe(false);
    expect(fs.readFileSync(unitFile(installed.root), "utf8")).not.toContain(installed.token);
    expect(JSON.stringify(installed.commands)).not.toContain(installed.token);
    expect(installed.stdout + installed.stderr).not.toContain(installed.token);

    // Nothing of the repository is on the daemon's way: no tsx, no node_modules above its folder.
    for (let dir = agentDir; dir !== path.dirname(dir); dir = path.dirname(dir)) expect(fs.existsSync(path.join(dir, "node_modules")), dir).toBe(false);
    const daemon = startUnit(unit, path.join(installed.root, "vm-agent.log"));
    units.push(daemon);
    const ready = await readyFrom(installed.nodeId);
    expect(ready.body).toMatchObject({ endpoint: `https://127.0.0.1:${installed.agentPort}`, contractVersion: CONTRACT_VERSION });
    expect(fs.readFileSync(`/proc/${daemon.pid}/cmdline`, "utf8")).not.toContain(installed.token);
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
    const token = await signNodeCallbackToken(signingKey, { nodeId }, 600_000);
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
    // Its parameters stay for another try.
    expect(fs.existsSync(path.join(installed.root, INSTALL_PARAMS_PATH))).toBe(true);
  });

  it("refuses the control plane's Node for another CPU, saying why", async () => {
    const installed = await install({ runtime: { ...downloads.runtime!, arch: otherArch }, env: { ACP_NODE_MIN_VERSION: "99.0" } });
    expect(installed.code).not.toBe(0);
    expect(installed.stderr).toContain(`the control plane's Node is for ${otherArch}, not this ${os.machine()} CPU`);
    expect(fs.existsSync(unitFile(installed.root))).toBe(false);
  });
});
