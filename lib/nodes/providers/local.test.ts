/**
 * The local provider keeps the data folder passable but not readable for the agents that run on
 * this machine, and a purged node's folder goes with the Unix users its daemon made. A stand-in
 * project root holds a daemon that only waits and a users purge whose behaviour each test picks.
 * As root it runs the daemon from the installed node runtime, and a real one started from a
 * checkout in a folder others cannot enter runs each workspace as its own user.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signNodeCallbackToken, signNodeManagementToken } from "../../auth/tokens";
import { VM_AGENT_CAPABILITIES } from "../../contracts/vm-agent";
import { makeRepo } from "../../../tests/harness/git";
import { describeNeedingRoot } from "../../../tests/harness/needs-root";
import { sharedTempDir } from "../../../tests/harness/shared-dir";
import { startReceiver, testKey } from "../../../vm-agent/test-support";
import { removeNodeUsers } from "../../../vm-agent/users";
import { pinnedFetch } from "../pinned-tls";
import { isAlive } from "../../contracts/process";
import { localNodeDir, localProvider, readLocalNodeRecord } from "./local";
import type { ProviderNode } from "../provider";

const ROOT = path.resolve(import.meta.dirname, "../../..");
const mode = (file: string) => fs.statSync(file).mode & 0o777;

/** The users purge stand-in: `ok` records its argument and environment, `fail` exits 1, `hang` never ends. */
const PURGE_SCRIPT = `import fs from "node:fs";
import path from "node:path";
const here = path.dirname(process.argv[1]);
const behaviour = fs.readFileSync(path.join(here, "behaviour"), "utf8");
fs.writeFileSync(path.join(here, "pid"), String(process.pid));
if (behaviour === "hang") setInterval(() => undefined, 1000);
else if (behaviour === "fail") {
  process.stderr.write("userdel: user acp0123456789ab is currently used by process 1\\n");
  process.exit(1);
} else fs.writeFileSync(path.join(here, "purged-" + process.argv[2]), JSON.stringify(process.env));
`;

let root: string;
let dataDir: string;
/** The node runtime's folder (passable: under a sticky shared folder) and the archives' cache, this file's own. */
let runtimeDir: string;
let cacheDir: string;
/** Where work folders go that workspace users could not reach in the data folder (itself in a 0700 temporary folder). */
let workRoot: string;
const warnings: { msg: string; fields: Record<string, unknown> }[] = [];
const created: ProviderNode[] = [];
let provider: ReturnType<typeof localProvider>;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "acp-local-root-"));
  fs.mkdirSync(path.join(root, "vm-agent", "agents"), { recursive: true });
  runtimeDir = path.join(sharedTempDir("acp-local-runtime-"), "runtime");
  workRoot = path.join(sharedTempDir("acp-local-work-"), "work");
  cacheDir = path.join(root, "cache");
  fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
  fs.writeFileSync(path.join(root, "vm-agent", "main.ts"), "setInterval(() => undefined, 1000);\n");
  fs.writeFileSync(path.join(root, "vm-agent", "purge-node-users.ts"), PURGE_SCRIPT);
  dataDir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "acp-local-data-")), "data");
  provider = localProvider({
    dataDir,
    rootDir: root,
    runtimeDir,
    cacheDir,
    workRoot,
    env: { ...process.env, NODE_CALLBACK_TOKEN: "not for the purge", DATABASE_URL: "postgres://secret" },
    stopGraceMs: 1_000,
    purgeUsersTimeoutMs: 3_000,
    log: (_level, msg, fields) => warnings.push({ msg, fields }),
  });
});
afterAll(async () => {
  for (const node of created) await provider.destroy(node);
  fs.rmSync(root, { recursive: true, force: true });
  fs.rmSync(path.dirname(dataDir), { recursive: true, force: true });
  fs.rmSync(path.dirname(runtimeDir), { recursive: true, force: true });
  fs.rmSync(path.dirname(workRoot), { recursive: true, force: true });
});

async function createNode(nodeId: string) {
  const node = { id: nodeId, provider: "local", ...(await provider.create({ nodeId, userId: "u1", controlPlaneUrl: "http://127.0.0.1:1", credential: { kind: "callback", token: "t" }, publicJwk: { kty: "EC" } })) };
  created.push(node);
  return node;
}

const behave = (behaviour: "ok" | "fail" | "hang") => fs.writeFileSync(path.join(root, "vm-agent", "behaviour"), behaviour);

describe("a local node's folder", () => {
  it("is passable on the way to its work folder, and its record, pid file and logs are owner-only", async () => {
    // What an earlier version left: a listable node folder, a readable rotated log and work folder.
    const nodeDir = localNodeDir(dataDir, "n_modes");
    fs.mkdirSync(path.join(nodeDir, "work"), { recursive: true, mode: 0o755 });
    fs.writeFileSync(path.join(nodeDir, "vm-agent.log.1"), "old\n", { mode: 0o644 });
    fs.chmodSync(nodeDir, 0o755);

    await createNode("n_modes");
    expect(readLocalNodeRecord(nodeDir)).toBeDefined();
    expect(mode(dataDir)).toBe(0o711);
    expect(mode(path.dirname(nodeDir))).toBe(0o711);
    expect(mode(nodeDir)).toBe(0o711);
    for (const file of ["node.json", "vm-agent.pid", "vm-agent.log", "vm-agent.log.1"]) expect(mode(path.join(nodeDir, file)), file).toBe(0o600);
    // Its daemon sets the modes in its work folder.
    expect(mode(path.join(nodeDir, "work"))).toBe(0o755);
  });
});

describeNeedingRoot("a local node's daemon started by root", () => {
  it("runs from the installed node runtime and keeps only the capabilities it needs (VM_AGENT_CAPABILITIES), under the same pid", async () => {
    const node = await createNode("n_caps");
    const pid = Number(/^pid:(\d+)$/.exec(node.providerServerId)![1]);
    // setpriv bounds itself, then execs the daemon in place: the installed Node running the installed bundle.
    await vi.waitFor(() => {
      const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      expect(args[0]).toMatch(new RegExp(`^${runtimeDir}/node/[0-9a-f]{16}/bin/node$`));
      expect(args[1]).toMatch(new RegExp(`^${runtimeDir}/vm-agent/[0-9a-f]{16}/vm-agent\\.mjs$`));
    });
    for (const dir of [runtimeDir, path.join(runtimeDir, "node"), path.join(runtimeDir, "vm-agent")]) expect(mode(dir), dir).toBe(0o755);
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const capabilities = (field: string) => BigInt(`0x${new RegExp(`^${field}:\\s+([0-9a-f]+)`, "m").exec(status)![1]}`);
    // Bit numbers from linux/capability.h.
    const bits: Record<(typeof VM_AGENT_CAPABILITIES)[number], number> = { chown: 0, dac_override: 1, fowner: 3, kill: 5, setgid: 6, setuid: 7, net_admin: 12, sys_admin: 21, audit_write: 29 };
    const expected = VM_AGENT_CAPABILITIES.reduce((all, name) => all | (1n << BigInt(bits[name])), 0n);
    expect(capabilities("CapBnd").toString(16)).toBe(expected.toString(16));
    expect(capabilities("CapEff").toString(16)).toBe(expected.toString(16));
  });
});

describe("purging a local node", () => {
  it("deletes the Unix users its daemon made (the vm-agent's command, with nothing of the control plane's environment), then its folder", async () => {
    const node = await createNode("n_purged");
    await provider.destroy(node);
    behave("ok");
    await provider.purge!(node);
    const env = JSON.parse(fs.readFileSync(path.join(root, "vm-agent", "purged-n_purged"), "utf8")) as Record<string, string>;
    expect(Object.keys(env).filter((k) => !/^(PATH|HOME|LANG|TMPDIR)$/.test(k) && !k.startsWith("TSX"))).toEqual([]);
    expect(fs.existsSync(localNodeDir(dataDir, "n_purged"))).toBe(false);
  });

  it("fails, keeping the folder to try again, when the users cannot be deleted", async () => {
    const node = await createNode("n_fail");
    await provider.destroy(node);
    behave("fail");
    await expect(provider.purge!(node)).rejects.toThrow(/could not delete the Unix users of node n_fail: .*purge-node-users\.ts exited with 1: userdel: user acp0123456789ab is currently used/);
    expect(fs.existsSync(localNodeDir(dataDir, "n_fail"))).toBe(true);
  });

  it("waits no longer than its timeout, and stops the command", async () => {
    const node = await createNode("n_hang");
    await provider.destroy(node);
    behave("hang");
    const pidFile = path.join(root, "vm-agent", "pid");
    fs.rmSync(pidFile);
    const started = Date.now();
    await expect(provider.purge!(node)).rejects.toThrow(/could not delete the Unix users of node n_hang: .*did not finish within 3000 ms/);
    expect(Date.now() - started).toBeLessThan(6_000);
    const pid = Number(fs.readFileSync(pidFile, "utf8"));
    await expect.poll(() => isAlive(pid), { timeout: 5_000 }).toBe(false);
    expect(fs.existsSync(localNodeDir(dataDir, "n_hang"))).toBe(true);
  });

  it("warns and removes the folder when the vm-agent has no such command", async () => {
    const node = await createNode("n_older");
    await provider.destroy(node);
    fs.rmSync(path.join(root, "vm-agent", "purge-node-users.ts"));
    await provider.purge!(node);
    expect(fs.existsSync(localNodeDir(dataDir, "n_older"))).toBe(false);
    expect(warnings).toEqual([{ msg: expect.stringContaining("no purge-node-users command"), fields: expect.objectContaining({ nodeId: "n_older" }) }]);
  });
});

describeNeedingRoot("a local node from a checkout in a folder others cannot enter", () => {
  it("runs each workspace's setup script as its own user with its own HOME, its work folder outside the closed data folder (the Tried line: isolation none, setup as root with HOME=/root)", async () => {
    // A checkout of these sources inside a 0700 folder, as in /root or a home folder.
    const closed = fs.mkdtempSync(path.join(os.tmpdir(), "acp-closed-"));
    const checkout = path.join(closed, "checkout");
    for (const dir of ["vm-agent", "lib"]) fs.cpSync(path.join(ROOT, dir), path.join(checkout, dir), { recursive: true, filter: (source) => !source.endsWith(".test.ts") });
    for (const file of ["tsconfig.json", "package.json"]) fs.copyFileSync(path.join(ROOT, file), path.join(checkout, file));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(checkout, "node_modules"));
    // Its data folder in the checkout too (`.data`, the default): the work folder goes where workspace users can reach it.
    const nodeData = path.join(checkout, ".data");
    const workParent = fs.mkdtempSync(path.join(os.tmpdir(), "acp-work-root-"));
    fs.chmodSync(workParent, 0o711);
    const workRoot = path.join(workParent, "work");
    const out = sharedTempDir("acp-local-setup-");
    const receiver = await startReceiver();
    const key = await testKey();
    const nodeId = `n_closed_${process.pid}`;
    const closedProvider = localProvider({ dataDir: nodeData, rootDir: checkout, runtimeDir, cacheDir, workRoot, env: { PATH: process.env.PATH, HOME: process.env.HOME, LANG: "C.UTF-8" }, stopGraceMs: 1_000 });
    const node = { id: nodeId, provider: "local" };
    try {
      const started = await closedProvider.create({ nodeId, userId: "u1", controlPlaneUrl: receiver.url, credential: { kind: "callback", token: await signNodeCallbackToken(key.key, { nodeId }, 600_000) }, publicJwk: key.publicJwk });
      Object.assign(node, started);
      const ready = await receiver.next(new RegExp(`/api/nodes/${nodeId}/ready$`));
      expect(ready.body.isolation).toEqual({ mode: "users", egress: { mode: "namespaces" } });

      const repo = makeRepo({ ".agent/setup.sh": `{ id -un; echo "$HOME"; } > '${out}/setup'\n` });
      const token = await signNodeManagementToken(key.key, { nodeId, workspaceId: "w_l" }, 60_000);
      const response = await pinnedFetch({ id: nodeId, certificateFingerprint: String(ready.body.certificateFingerprint) }, new URL("/workspaces", String(ready.body.endpoint)), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ workspaceId: "w_l", taskId: "t_l", repository: repo, branch: "agents/w_l", callbackToken: "cb" }),
      });
      await response.body?.cancel();
      expect(response.status).toBe(202);
      const provisioned = await receiver.next(/w_l\/(ready|provisioning-failed)$/);
      expect(provisioned.path, JSON.stringify(provisioned.body)).toMatch(/ready$/);
      const [user, home] = fs.readFileSync(path.join(out, "setup"), "utf8").trim().split("\n");
      expect(user).toMatch(/^acp[0-9a-f]{12}$/);
      const workDir = fs.readlinkSync(path.join(localNodeDir(nodeData, nodeId), "work"));
      expect(path.dirname(workDir)).toBe(workRoot);
      expect(home).toBe(path.join(workDir, "workspaces", "w_l", "home"));
      await closedProvider.destroy(node as ProviderNode);
      await closedProvider.purge!(node as ProviderNode);
      expect(fs.existsSync(workDir)).toBe(false);
      expect(fs.existsSync(localNodeDir(nodeData, nodeId))).toBe(false);
    } finally {
      if ("providerServerId" in node) await closedProvider.destroy(node as ProviderNode);
      await removeNodeUsers(nodeId);
      await receiver.close();
      for (const dir of [closed, workParent, out]) fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
