/**
 * "A machine registered with the install command": the nodes page's one line, run for real. The
 * registration is made by the real route; the installer (served by the real route) runs in a
 * throwaway root with only ACP_CONTROL_PLANE_URL and ACP_REGISTRATION_TOKEN, against a stand-in
 * control plane whose routes are the app's real handlers over a real database; then the installed
 * unit starts as systemd would start it, and its node must become `running` with its certificate pinned.
 */
import fs from "node:fs";
import path from "node:path";
import { eq } from "drizzle-orm";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { GET as getArtifact } from "@/app/api/vm-agent/artifact/route";
import { GET as getInstaller } from "@/app/api/vm-agent/install.sh/route";
import { GET as getRuntime } from "@/app/api/vm-agent/runtime/route";
import { POST as createRegistration } from "@/app/api/machines/registrations/route";
import { POST as register } from "@/app/api/machines/register/route";
import { POST as nodeReady } from "@/app/api/nodes/[id]/ready/route";
import { POST as nodeHeartbeat } from "@/app/api/nodes/[id]/heartbeat/route";
import { runtime } from "@/inngest/runtime";
import { nodes } from "@/db/schema";
import { CreatedMachineRegistration } from "@/lib/contracts/api";
import { createMachineRegistration } from "@/lib/machines/registrations";
import { localTokenFor } from "@/lib/auth/local";
import { pinnedFetch } from "@/lib/nodes/pinned-tls";
import { LOCAL_USER } from "@/lib/users";
import { installLeftovers, readUnit, runCommandsUnder, startControlPlaneStandIn, startUnit, throwawayRoot, waitUntil } from "@/tests/harness/node-install";

const SERVICE = "agent-control-plane-vm-agent.service";
/**
 * The configuration is read as the app's modules load (inngest/client.ts), so it is set before any
 * import: this file's own database and download cache, where machines reach the control plane (the
 * stand-in's port; a loopback http URL is one a daemon accepts) and the port they serve on.
 */
const { dataDir, cacheDir, appPort, agentPort } = await vi.hoisted(async () => {
  // lib/net.ts reads no configuration, so it may load this early.
  const [{ mkdtempSync }, { tmpdir }, { join }, { freePort }] = await Promise.all([import("node:fs"), import("node:os"), import("node:path"), import("@/lib/net")]);
  const settings = {
    dataDir: mkdtempSync(join(tmpdir(), "acp-machine-data-")),
    cacheDir: mkdtempSync(join(tmpdir(), "acp-artifact-cache-")),
    appPort: await freePort(),
    agentPort: await freePort(),
  };
  Object.assign(process.env, {
    DATA_DIR: settings.dataDir,
    VM_AGENT_CACHE_DIR: settings.cacheDir,
    APP_URL: `http://127.0.0.1:${settings.appPort}`,
    NODE_AGENT_PORT: String(settings.agentPort),
  });
  return settings;
});

type NodeRoute = (request: Request, context: { params: Promise<{ id: string }> }) => Promise<Response>;
/** A node callback route as Next calls it: with the id from its path. */
const withNodeId = (route: NodeRoute) => (request: Request) => route(request, { params: Promise.resolve({ id: new URL(request.url).pathname.split("/")[3]! }) });

let standIn: Awaited<ReturnType<typeof startControlPlaneStandIn>>;
let installer: string;
const leftovers = installLeftovers();
const { roots, units, nodeIds } = leftovers;

beforeAll(async () => {
  standIn = await startControlPlaneStandIn([
    { method: "GET", path: /^\/api\/vm-agent\/artifact$/, handle: getArtifact },
    { method: "GET", path: /^\/api\/vm-agent\/runtime$/, handle: getRuntime },
    { method: "POST", path: /^\/api\/machines\/register$/, handle: register },
    { method: "POST", path: /^\/api\/nodes\/[^/]+\/ready$/, handle: withNodeId(nodeReady) },
    { method: "POST", path: /^\/api\/nodes\/[^/]+\/heartbeat$/, handle: withNodeId(nodeHeartbeat) },
  ], appPort);
  installer = await (await getInstaller(new Request(`${standIn.url}/api/vm-agent/install.sh`))).text();
}, 120_000);

afterEach(() => leftovers.clean());

afterAll(async () => {
  await standIn?.close();
  const rt = await runtime();
  await rt.database.close();
  fs.rmSync(cacheDir, { recursive: true, force: true });
  fs.rmSync(dataDir, { recursive: true, force: true });
});

const post = (url: string, body: unknown) => new Request(url, { method: "POST", headers: { "content-type": "application/json", host: new URL(url).host }, body: JSON.stringify(body) });

/** "Add a machine" on the nodes page. */
async function addMachine() {
  const request = post(`${standIn.url}/api/machines/registrations`, {});
  // The person asks, with local mode's credential (a script's: the local token).
  request.headers.set("authorization", `Bearer ${localTokenFor(dataDir)}`);
  const response = await createRegistration(request);
  expect(response.status).toBe(201);
  return CreatedMachineRegistration.parse(await response.json());
}

/** The command's environment and `sh` on the served installer, in a new throwaway root (`sudo` has nothing to do: the test runs as the user it runs as). */
async function runInstallCommand(command: string, root = throwawayRoot()) {
  if (!roots.includes(root)) roots.push(root);
  const match = /^curl -fsSL (\S+) \| sudo ACP_CONTROL_PLANE_URL=(\S+) ACP_REGISTRATION_TOKEN=(\S+) sh$/.exec(command);
  expect(match, command).not.toBeNull();
  expect(match![1]).toBe(`${standIn.url}/api/vm-agent/install.sh`);
  const script = path.join(root, "install.sh");
  fs.writeFileSync(script, installer);
  const result = await runCommandsUnder(root, { runcmd: [["sh", script]] }, {
    PATH: process.env.PATH!,
    ACP_SYSTEMCTL: "true",
    ACP_CONTROL_PLANE_URL: match![2]!,
    ACP_REGISTRATION_TOKEN: match![3]!,
    // Listen on loopback only (the default is every address): this machine is the test's.
    ACP_AGENT_HOST: "127.0.0.1",
  });
  return { root, ...result };
}

/** The files under `dir` whose bytes contain `text`. */
function filesContaining(dir: string, text: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => path.join(dir, name))
    .filter((file) => fs.lstatSync(file).isFile() && fs.readFileSync(file).includes(text));
}

describe("a machine registered with the install command", () => {
  it("joins as its owner's machine node, runs, and has its certificate pinned", async () => {
    const registration = await addMachine();
    const installed = await runInstallCommand(registration.command);
    expect(installed.code, installed.stderr).toBe(0);
    expect(installed.stderr).toMatch(/registered as node n_[0-9a-f]+/);
    const nodeId = /registered as node (n_[0-9a-f]+)/.exec(installed.stderr)![1]!;
    nodeIds.push(nodeId);
    // The one-time token is in no file the install left, nor in the daemon's environment; the parameters file is gone.
    expect(filesContaining(installed.root, registration.token)).toEqual([]);
    expect(fs.existsSync(path.join(installed.root, "etc/agent-control-plane/install.env"))).toBe(false);

    const rt = await runtime();
    const [row] = await rt.db.select().from(nodes).where(eq(nodes.id, nodeId));
    expect(row).toMatchObject({ userId: LOCAL_USER.id, provider: "machine", status: "creating", autoProvisioned: false, providerServerId: registration.id });

    const unit = readUnit(path.join(installed.root, "etc/systemd/system", SERVICE));
    units.push(startUnit(unit, path.join(installed.root, "vm-agent.log")));
    const running = await waitUntil(`node ${nodeId} to run`, async () => {
      const [now] = await rt.db.select().from(nodes).where(eq(nodes.id, nodeId));
      return now?.status === "running" ? now : undefined;
    });
    expect(running).toMatchObject({ health: "healthy", endpoint: `https://127.0.0.1:${agentPort}`, certificateFingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/) });
    // The control plane reaches it over the pinned certificate.
    const health = await pinnedFetch({ id: nodeId, certificateFingerprint: running.certificateFingerprint! }, new URL(`${running.endpoint}/health`));
    expect(await health.json()).toEqual({ status: "ok" });
  }, 180_000);

  it("is refused when the command is run again: the token works once, and nothing is installed", async () => {
    const registration = await addMachine();
    const first = await runInstallCommand(registration.command);
    expect(first.code, first.stderr).toBe(0);
    nodeIds.push(/registered as node (n_[0-9a-f]+)/.exec(first.stderr)![1]!);
    const again = await runInstallCommand(registration.command);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/refused to register this machine \(HTTP 410\): this registration token was used at/);
    expect(fs.existsSync(path.join(again.root, "etc/systemd/system", SERVICE))).toBe(false);
  }, 180_000);
});

describe("POST /api/machines/register", () => {
  const call = (body: unknown) => register(post(`${standIn.url}/api/machines/register`, body));
  const problem = async (response: Response) => ({ status: response.status, ...((await response.json()) as { error: string; field?: string }) });

  it("answers 4xx naming the field, never a 500", async () => {
    expect(await problem(await call({}))).toMatchObject({ status: 422, field: "token" });
    expect(await problem(await call({ token: "acp_not-a-registration-token" }))).toMatchObject({ status: 422, field: "token" });
    const token = (await addMachine()).token;
    expect(await problem(await call({ token, advertisedHost: "not a host; rm -rf /" }))).toMatchObject({ status: 422, field: "advertisedHost" });
    expect(await problem(await register(new Request(`${standIn.url}/api/machines/register`, { method: "POST", headers: { "content-type": "application/json" }, body: "{" })))).toMatchObject({
      status: 400,
      field: "body",
    });
  });

  it("401 for an unknown token, 410 for an expired one", async () => {
    expect(await problem(await call({ token: `acpm_${"A".repeat(43)}` }))).toMatchObject({ status: 401, field: "token", error: expect.stringMatching(/not known/) });
    const rt = await runtime();
    const expired = await createMachineRegistration(rt.db, { userId: LOCAL_USER.id, appUrl: standIn.url, ttlMs: -1 });
    expect(await problem(await call({ token: expired.token }))).toMatchObject({ status: 410, field: "token", error: expect.stringMatching(/expired at/) });
  });

  it("answers the installer's parameters once, with the advertised host to report", async () => {
    const { token } = await addMachine();
    const response = await call({ token, advertisedHost: "2001:db8::7" });
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
    const lines = (await response.text()).trim().split("\n");
    for (const line of lines) expect(line).toMatch(/^ACP_[A-Z0-9_]+='[^'\\\n]*'$/);
    expect(lines).toEqual(expect.arrayContaining([`ACP_AGENT_PORT='${agentPort}'`, "ACP_AGENT_PUBLIC_HOST='2001:db8::7'", `ACP_CONTROL_PLANE_URL='${standIn.url}'`]));
    expect(lines.map((line) => line.split("=")[0])).toEqual(expect.arrayContaining(["ACP_NODE_ID", "ACP_NODE_CALLBACK_TOKEN", "ACP_CONTROL_PLANE_PUBLIC_JWK", "ACP_ARTIFACT_URL", "ACP_ARTIFACT_SHA256"]));
    expect((await call({ token })).status).toBe(410);
  });
});
