/**
 * The `local` provider: a vm-agent process on this machine, on a free loopback port. It runs
 * detached in its own process group, so it outlives a web process restart like a real node would.
 *
 * Each node keeps its folder at `<dataDir>/nodes/<nodeId>/`: `node.json` ({pid, port, endpoint
 * (`https://127.0.0.1:<port>`), startedAt}, written atomically) says which process serves it and where, `vm-agent.pid` the
 * pid alone, `vm-agent.log` its output, `work/` its state. Creating a node whose vm-agent still
 * runs returns that one; creating it again after its vm-agent died starts a new one on the same
 * work folder, which adopts what the old one left.
 *
 * Agents run on this machine, so the path to a node's work folder is passable but not listable and
 * the rest of the node's folder (its record, pid file and log) is owner-only (lib/data-dir.ts). A
 * node's folder goes with the Unix users its daemon made for its workspaces (`purge`).
 *
 * As root, the daemon runs from the node runtime a cloud node installs (the packed Node and the
 * bundled vm-agent), installed where the workspaces' users can run it, with the agent CLIs found in
 * the checkout (lib/nodes/artifacts/local-install.ts): from the checkout they could not, when it
 * sits in a folder others cannot enter (`/root`, a home folder). As another user it cannot make
 * workspace users anyway, and runs from the checkout with tsx, as in development.
 */
import { createHash, X509Certificate } from "node:crypto";
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { defaultArtifactCacheDir } from "../artifacts/cache";
import { DEFAULT_LOCAL_RUNTIME_DIR, installLocalRuntime } from "../artifacts/local-install";
import { ensureDir, NODE_WORK_FOLDER, NODES_FOLDER, PASSABLE_DIR_MODE, prepareNodeDir, PRIVATE_FILE_MODE } from "../../data-dir";
import { defaultTmuxSocket, nodeWorkDirLayout } from "../../contracts/node-layout";
import { CLI_SETTINGS, MODEL_API_SETTINGS } from "../../contracts/agents";
import { nodeTlsFiles } from "../../contracts/tls";
import { VM_AGENT_CAPABILITIES } from "../../contracts/vm-agent";
import { freePort } from "../../net";
import { isAlive } from "../../contracts/process";
import { unreachableByOthers } from "../../contracts/passable";
import { NodeProviderError, type CreateNodeInput, type CreatedNode, type NodeProvider } from "../provider";
import { log as controlPlaneLog } from "../../log";

/** Operator settings of the control plane that also configure its local nodes. */
const PASSED_THROUGH = [
  "PATH",
  "HOME",
  "LANG",
  "TMPDIR",
  "SCRIPT_AGENT_COMMAND",
  "SETUP_SCRIPT",
  "SETUP_TIMEOUT",
  "AGENT_TIMEOUT",
  "GIT_PUSH",
  "GIT_AUTHOR_NAME",
  "GIT_AUTHOR_EMAIL",
  // A forge with a private certificate authority (GitHub Enterprise Server): git trusts this file.
  "GIT_SSL_CAINFO",
  // A control plane behind HTTPS with a private certificate authority: the daemon's callbacks trust this file too.
  "NODE_EXTRA_CA_CERTS",
  "TLS_CERTIFICATE_LIFETIME",
  "CALLBACK_MAX_ATTEMPTS",
  "CALLBACK_MAX_ELAPSED",
  "CALLBACK_BASE_DELAY",
  "CALLBACK_MAX_DELAY",
  "HEARTBEAT_INTERVAL",
  "OUTPUT_FLUSH_INTERVAL",
  "DIFF_MAX_BYTES",
  // The CLI agents' binaries and model endpoints (as their adapters name them). Their keys are never
  // a node's configuration: each session is handed its owner's with its start request (lib/secrets/agent-keys.ts).
  ...CLI_SETTINGS,
  ...MODEL_API_SETTINGS,
  "CLAUDE_ALLOWED_TOOLS",
];

/** Where every local node serves: this machine's loopback, HTTPS (as every node), the port the provider chose. */
const LOCAL_HOST = "127.0.0.1";
const localEndpoint = (port: number) => `https://${LOCAL_HOST}:${port}`;
/** Exactly `https://127.0.0.1:<port>`: no name to resolve, no path, no credentials, no leading zero. */
const LOCAL_ENDPOINT = new RegExp(`^https://${LOCAL_HOST.replaceAll(".", "\\.")}:([1-9][0-9]{0,4})$`);

/** What the command line of a local node's daemon ends with: the checkout's entry, or the installed bundle's. */
const VM_AGENT_ENTRY = path.join("vm-agent", "main.ts");
const INSTALLED_VM_AGENT_ENTRY = "/vm-agent.mjs";
/** The vm-agent's command that deletes the Unix users a node's daemon made (a no-op where it cannot). */
const PURGE_USERS_ENTRY = path.join("vm-agent", "purge-node-users.ts");
/** What the users purge gets of the environment: enough to run, nothing of the control plane's. */
const PURGE_USERS_ENV = ["PATH", "HOME", "LANG", "TMPDIR"];

const pidOf = (providerServerId: string | null) => {
  const match = /^pid:(\d+)$/.exec(providerServerId ?? "");
  return match ? Number(match[1]) : undefined;
};

/** `<nodeDir>/node.json`. */
export type LocalNodeRecord = {
  pid: number;
  port: number;
  endpoint: string;
  startedAt: string;
  /** Where it sends its callbacks and which key it trusts; a node asked for with others is restarted. */
  controlPlaneUrl?: string;
  keyFingerprint?: string;
};

export const localNodeDir = (dataDir: string, nodeId: string) => path.resolve(dataDir, NODES_FOLDER, nodeId);
/** The node's work folder as its records are read: its workspaces and its daemon's state (a link to where it is when that is elsewhere, see placeWorkDir). */
export const localNodeWorkDir = (nodeDir: string) => path.join(nodeDir, NODE_WORK_FOLDER);

/** Where a root provider puts work folders its workspace users could not reach in DATA_DIR (LOCAL_NODE_WORK_ROOT). */
export const DEFAULT_LOCAL_WORK_ROOT = "/var/lib/agent-control-plane-work";

/**
 * The node's VM_AGENT_WORK_DIR. Its workspaces' users must pass through every folder on the way to
 * it: `<nodeDir>/work` when they can; otherwise, for a root provider whose DATA_DIR is behind a
 * closed folder (a checkout under /root or in a 0700 folder), a root-owned folder under `workRoot`
 * named by the node folder's path, with `<nodeDir>/work` a link to it, so the records are read at
 * the same place either way. A work folder already made inside stays (its daemon then says why its
 * workspaces cannot be isolated).
 */
function placeWorkDir(nodeDir: string, workRoot: string): string {
  const inside = localNodeWorkDir(nodeDir);
  const existing = fs.lstatSync(inside, { throwIfNoEntry: false });
  if (existing?.isSymbolicLink()) return fs.readlinkSync(inside);
  if (existing || process.getuid?.() !== 0 || !unreachableByOthers("work", inside)) return inside;
  const outside = path.join(path.resolve(workRoot), createHash("sha256").update(nodeDir).digest("hex").slice(0, 16));
  fs.mkdirSync(outside, { recursive: true, mode: PASSABLE_DIR_MODE });
  fs.chmodSync(outside, PASSABLE_DIR_MODE);
  const closed = unreachableByOthers(`LOCAL_NODE_WORK_ROOT (${workRoot})`, nodeWorkDirLayout(outside).workspaces);
  if (closed) throw new NodeProviderError(`the node's work folder cannot be inside DATA_DIR, which workspace users cannot reach, nor elsewhere: ${closed}`, { provider: "local", code: "work-dir", retriable: false });
  fs.symlinkSync(outside, inside);
  return outside;
}

/** Removes the node's folder and, when its work folder lives elsewhere, that too. */
function removeNodeDir(nodeDir: string) {
  const link = fs.lstatSync(localNodeWorkDir(nodeDir), { throwIfNoEntry: false });
  if (link?.isSymbolicLink()) fs.rmSync(fs.readlinkSync(localNodeWorkDir(nodeDir)), { recursive: true, force: true });
  fs.rmSync(nodeDir, { recursive: true, force: true });
}

export function readLocalNodeRecord(nodeDir: string): LocalNodeRecord | undefined {
  try {
    const record = JSON.parse(fs.readFileSync(path.join(nodeDir, "node.json"), "utf8")) as LocalNodeRecord;
    return Number.isInteger(record.pid) && typeof record.endpoint === "string" ? record : undefined;
  } catch {
    return undefined;
  }
}

function writeLocalNodeRecord(nodeDir: string, record: LocalNodeRecord) {
  const file = path.join(nodeDir, "node.json");
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, `${JSON.stringify(record, null, 2)}\n`, { mode: PRIVATE_FILE_MODE });
  fs.renameSync(temporary, file);
}

const HAS_PROC = fs.existsSync("/proc/self/cmdline");

/**
 * True while `pid` runs a vm-agent (its command line names vm-agent/main.ts or vm-agent.mjs), so a pid the system
 * gave to another process since does not count; with `nodeId`, also that it serves this node.
 * Without /proc (macOS) only whether the pid is alive can be told.
 */
export function isVmAgentProcess(pid: number, nodeId?: string): boolean {
  if (!isAlive(pid)) return false;
  if (!HAS_PROC) return true;
  try {
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    if (!args.some((a) => a.endsWith(VM_AGENT_ENTRY) || a.endsWith(INSTALLED_VM_AGENT_ENTRY))) return false;
  } catch {
    return false; // Gone meanwhile.
  }
  if (nodeId === undefined) return true;
  try {
    return fs.readFileSync(`/proc/${pid}/environ`, "utf8").split("\0").includes(`NODE_ID=${nodeId}`);
  } catch {
    return true; // Not ours to read: the command line is all there is to go by.
  }
}

const fingerprint = (jwk: unknown) => createHash("sha256").update(JSON.stringify(jwk)).digest("hex").slice(0, 16);

async function stopGroup(pid: number, graceMs: number) {
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup("SIGTERM");
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) signalGroup("SIGKILL");
}

export type LocalProviderOptions = {
  /** Where each node keeps its work folder and log: `<dataDir>/nodes/<nodeId>`. */
  dataDir: string;
  /** The project root, where `vm-agent/main.ts` and `node_modules/tsx` are. */
  rootDir?: string;
  /** Where a root daemon's node runtime is installed (LOCAL_NODE_RUNTIME_DIR; default DEFAULT_LOCAL_RUNTIME_DIR). */
  runtimeDir?: string;
  /** Where a root provider puts work folders its workspace users could not reach in the data folder (LOCAL_NODE_WORK_ROOT; default DEFAULT_LOCAL_WORK_ROOT). */
  workRoot?: string;
  /** Where its archives are built (VM_AGENT_CACHE_DIR; default defaultArtifactCacheDir()). */
  cacheDir?: string;
  env?: Record<string, string | undefined>;
  /** How long a node gets to exit after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
  /** How long deleting a purged node's Unix users may take (NODE_USERS_PURGE_TIMEOUT). */
  purgeUsersTimeoutMs?: number;
  log?: (level: "warn", msg: string, fields: Record<string, unknown>) => void;
};

const warnOnStderr: NonNullable<LocalProviderOptions["log"]> = (_level, msg, fields) => controlPlaneLog.warn(msg, fields);

/**
 * Runs `node --import tsx <script> <args>` in `rootDir` (as the daemon is started) and waits at most
 * `timeoutMs` for it: then its process group is killed and the wait fails.
 */
function runScript(rootDir: string, script: string, args: string[], env: Record<string, string | undefined>, timeoutMs: number) {
  return new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", script, ...args], {
      cwd: rootDir,
      env: env as NodeJS.ProcessEnv,
      detached: true,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2_000)));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // Gone meanwhile.
      }
      reject(new Error(`${path.relative(rootDir, script)} did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${path.relative(rootDir, script)} exited with ${code ?? signal}: ${stderr.trim() || "no output"}`));
    });
  });
}

const SETPRIV = "/usr/bin/setpriv";

/**
 * A root daemon drops what it does not need: setpriv (which execs, so the pid stays the daemon's)
 * bounds it to VM_AGENT_CAPABILITIES. As another user there is nothing to drop.
 */
export function boundedToVmAgentCapabilities(command: string[]): string[] {
  if (process.getuid?.() !== 0 || !fs.existsSync(SETPRIV)) return command;
  const bounding = ["-all", ...VM_AGENT_CAPABILITIES.map((name) => `+${name}`)].join(",");
  return [SETPRIV, `--bounding-set=${bounding}`, "--inh-caps=-all", "--", ...command];
}

export function localProvider(options: LocalProviderOptions): NodeProvider {
  const rootDir = options.rootDir ?? process.cwd();
  const env = options.env ?? process.env;
  const graceMs = options.stopGraceMs ?? 5_000;
  const purgeUsersTimeoutMs = options.purgeUsersTimeoutMs ?? 30_000;
  const log = options.log ?? warnOnStderr;
  /** How this provider starts a daemon: from the installed node runtime as root, from the checkout otherwise. */
  async function daemonCommand(given: Record<string, string | undefined>) {
    if (process.getuid?.() !== 0) return { command: [process.execPath, "--import", "tsx", path.join(rootDir, VM_AGENT_ENTRY)], cwd: rootDir, agentClis: {} };
    try {
      const runtime = await installLocalRuntime({
        rootDir,
        cacheDir: options.cacheDir ?? defaultArtifactCacheDir(given),
        installDir: options.runtimeDir ?? DEFAULT_LOCAL_RUNTIME_DIR,
        configured: Object.fromEntries(CLI_SETTINGS.map((setting) => [setting, given[setting]])),
      });
      return { command: [runtime.node, runtime.vmAgent], cwd: path.dirname(runtime.vmAgent), agentClis: runtime.agentClis };
    } catch (error) {
      throw new NodeProviderError(`could not install the node runtime for a local node: ${(error as Error).message}`, { provider: "local", code: "runtime", retriable: false });
    }
  }
  // One create at a time per node, so two concurrent calls never start two daemons.
  const creating = new Map<string, Promise<CreatedNode>>();

  async function start(input: CreateNodeInput): Promise<CreatedNode> {
    if (input.credential.kind !== "callback") {
      // The token is handed to the process directly, never left in user data: no installer exchanges anything here.
      throw new NodeProviderError(`node ${input.nodeId}: a local node's daemon is given its callback token in its environment, not an enrollment token`, { provider: "local", code: "credential", retriable: false });
    }
    const nodeCallbackToken = input.credential.token;
    const nodeDir = localNodeDir(options.dataDir, input.nodeId);
    // The workspaces' users pass through these on the way to the node's work folder, and read nothing on it.
    ensureDir(path.resolve(options.dataDir), PASSABLE_DIR_MODE);
    ensureDir(path.dirname(nodeDir), PASSABLE_DIR_MODE);
    prepareNodeDir(nodeDir);
    const keyFingerprint = fingerprint(input.publicJwk);
    const existing = readLocalNodeRecord(nodeDir);
    const running = existing && isVmAgentProcess(existing.pid, input.nodeId) ? existing : undefined;
    if (running) {
      const same =
        // A daemon from before TLS serves plain http, which no call to a node may use.
        LOCAL_ENDPOINT.test(running.endpoint) &&
        (running.controlPlaneUrl ?? input.controlPlaneUrl) === input.controlPlaneUrl &&
        (running.keyFingerprint ?? keyFingerprint) === keyFingerprint;
      if (same) return { providerServerId: `pid:${running.pid}`, endpoint: running.endpoint };
    }
    // Installed before the old daemon is stopped: a runtime that cannot be installed leaves that one running.
    const { command, cwd, agentClis } = await daemonCommand(env);
    // It would call back to another address, trust another key or serve plain http: replace it (its agents run on in tmux and are adopted).
    if (running) await stopGroup(running.pid, graceMs);
    const port = await freePort();
    const logFile = path.join(nodeDir, "vm-agent.log");
    const logFd = fs.openSync(logFile, "a", PRIVATE_FILE_MODE);
    const childEnv: Record<string, string | undefined> = {};
    for (const key of PASSED_THROUGH) if (env[key] !== undefined) childEnv[key] = env[key];
    Object.assign(childEnv, {
      VM_AGENT_HOST: LOCAL_HOST,
      VM_AGENT_PORT: String(port),
      NODE_ID: input.nodeId,
      CONTROL_PLANE_URL: input.controlPlaneUrl,
      NODE_CALLBACK_TOKEN: nodeCallbackToken,
      CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(input.publicJwk),
      VM_AGENT_WORK_DIR: placeWorkDir(nodeDir, options.workRoot ?? DEFAULT_LOCAL_WORK_ROOT),
      // The vm-agent rotates this file itself when it knows it; stdout and stderr still go there.
      VM_AGENT_LOG_FILE: logFile,
    });
    for (const [setting, binary] of Object.entries(agentClis)) childEnv[setting] = binary;
    const [file, ...args] = boundedToVmAgentCapabilities(command);
    const child = spawn(file!, args, {
      cwd,
      env: childEnv as NodeJS.ProcessEnv, // an allow-list; NODE_ENV is deliberately not passed
      detached: true,
      stdio: ["ignore", logFd, logFd],
    });
    fs.closeSync(logFd);
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid!));
      child.once("error", reject);
    });
    child.unref();
    const endpoint = localEndpoint(port);
    // Lets an operator, the runner (stopping idle nodes on Ctrl+C) or a test's teardown find every local node of a data folder.
    fs.writeFileSync(path.join(nodeDir, "vm-agent.pid"), String(pid), { mode: PRIVATE_FILE_MODE });
    writeLocalNodeRecord(nodeDir, {
      pid,
      port,
      endpoint,
      startedAt: new Date().toISOString(),
      controlPlaneUrl: input.controlPlaneUrl,
      keyFingerprint,
    });
    return { providerServerId: `pid:${pid}`, endpoint };
  }

  /**
   * Deletes the Unix users the node's daemon made for its workspaces. A failure or a timeout fails
   * the purge, which is tried again later: users are not left behind unnoticed.
   */
  async function purgeNodeUsers(nodeId: string) {
    const script = path.join(rootDir, PURGE_USERS_ENTRY);
    if (!fs.existsSync(script)) {
      // A vm-agent from before workspace users made none.
      log("warn", "the vm-agent has no purge-node-users command: the node's folder is removed, any Unix users its daemon made are left", { nodeId, script });
      return;
    }
    const scriptEnv: Record<string, string | undefined> = {};
    for (const key of PURGE_USERS_ENV) if (env[key] !== undefined) scriptEnv[key] = env[key];
    try {
      await runScript(rootDir, script, [nodeId], scriptEnv, purgeUsersTimeoutMs);
    } catch (error) {
      throw new Error(`could not delete the Unix users of node ${nodeId}: ${(error as Error).message}`, { cause: error });
    }
  }

  return {
    name: "local",
    sharedHost: true,
    create(input: CreateNodeInput): Promise<CreatedNode> {
      const pending = creating.get(input.nodeId);
      if (pending) return pending;
      const created = start(input).finally(() => creating.delete(input.nodeId));
      creating.set(input.nodeId, created);
      return created;
    },
    isRunning(node) {
      const pid = pidOf(node.providerServerId);
      return pid !== undefined && isVmAgentProcess(pid, node.id);
    },
    listRunning() {
      const dir = path.resolve(options.dataDir, "nodes");
      const ids = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
      return ids.flatMap((id) => {
        const record = readLocalNodeRecord(path.join(dir, id));
        return record && isVmAgentProcess(record.pid, id) ? [{ id, provider: "local", providerServerId: `pid:${record.pid}` }] : [];
      });
    },
    async checkEndpoint(node, endpoint) {
      const port = Number(LOCAL_ENDPOINT.exec(endpoint)?.[1]);
      if (!(port <= 65_535)) return `a local node serves at https://${LOCAL_HOST}:<port>, not ${JSON.stringify(endpoint.slice(0, 200))}`;
      // The record is written as the daemon is spawned, before it can listen, let alone call back.
      const record = readLocalNodeRecord(localNodeDir(options.dataDir, node.id));
      if (!record) return `node ${node.id} was not started by this local provider`;
      if (record.port !== port) return `node ${node.id} was started on port ${record.port}, not ${port}`;
      return undefined;
    },
    /** Read from the daemon's folder on this machine, which only this user and the daemon reach. */
    async certificateFingerprint(node) {
      const file = nodeTlsFiles(localNodeWorkDir(localNodeDir(options.dataDir, node.id))).certificate;
      try {
        return new X509Certificate(fs.readFileSync(file)).fingerprint256;
      } catch {
        return undefined; // not made yet (the daemon is starting) or unreadable: no pin from here
      }
    },
    async destroy(node) {
      // The node's agents run in tmux sessions that outlive its vm-agent; a destroyed machine takes them along.
      await new Promise<void>((resolve) => execFile("tmux", ["-L", defaultTmuxSocket(node.id), "kill-server"], () => resolve()));
      const pid = pidOf(node.providerServerId);
      // A pid the system has given to another process since is not ours to signal.
      if (pid === undefined || !isVmAgentProcess(pid, node.id)) return;
      await stopGroup(pid, graceMs);
    },
    async purge(node) {
      // The users first: what they may still run goes with them, and nothing of theirs is left behind in the folder.
      await purgeNodeUsers(node.id);
      removeNodeDir(localNodeDir(options.dataDir, node.id));
    },
  };
}
