/**
 * For the vm-agent's tests: a loopback HTTP(S) receiver standing in for the control plane's callback
 * routes, and a daemon started in-process with a fresh key pair. Calls to a daemon go as the control
 * plane's do: over HTTPS, pinned to the certificate the daemon reported (lib/nodes/pinned-tls.ts).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import https from "node:https";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair } from "jose";
import { signNodeCallbackToken, signNodeManagementToken, type SigningKey } from "../lib/auth/tokens";
import { defaultArtifactCacheDir } from "../lib/nodes/artifacts/cache";
import { DEFAULT_LOCAL_RUNTIME_DIR, installLocalRuntime } from "../lib/nodes/artifacts/local-install";
import { pinnedFetch } from "../lib/nodes/pinned-tls";
import { defaultTmuxSocket } from "../lib/contracts/node-layout";
import type { RetryPolicy } from "./callbacks";
import { inheritedEnvironment, VmAgentConfigSchema, type VmAgentConfig } from "./config";
import { startDaemon } from "./daemon";
import { silentLogger, type Logger } from "./log";
import { alive } from "./runtime/processes";
import { Tmux } from "./runtime/tmux";
import { removeNodeUsers } from "./users";
/** Where a test's double listens when a workspace must reach it through its egress proxy (the request's allowPrivate names it). */
export { nonLoopbackAddress } from "../tests/harness/host-address";

export type Received = { path: string; authorization: string | undefined; body: Record<string, unknown> };
export type Attempt = Received & { status: number };

/**
 * Records callbacks; `answer` decides each response status (default 200), from the path, the attempt
 * and the body. With `tls` it serves HTTPS with that key and certificate (as a control plane behind a
 * TLS proxy does).
 */
export async function startReceiver(
  answer: (path: string, attempt: number, body: Record<string, unknown>) => number = () => 200,
  tls?: { key: string; cert: string },
) {
  const received: Received[] = [];
  const attempts = new Map<string, number>();
  const waiters: { predicate: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  const attemptLog: Attempt[] = [];
  const attemptWaiters: { pattern: RegExp; resolve: (a: Attempt) => void }[] = [];
  const handle = async (request: http.IncomingMessage, response: http.ServerResponse) => {
    let text = "";
    for await (const chunk of request) text += chunk;
    const url = request.url ?? "/";
    const attempt = (attempts.get(url) ?? 0) + 1;
    attempts.set(url, attempt);
    const body = JSON.parse(text) as Record<string, unknown>;
    const status = answer(url, attempt, body);
    const logged: Attempt = { path: url, authorization: request.headers.authorization, body, status };
    attemptLog.push(logged);
    for (const w of attemptWaiters.filter((w) => w.pattern.test(url))) {
      attemptWaiters.splice(attemptWaiters.indexOf(w), 1);
      w.resolve(logged);
    }
    if (status < 300) {
      const entry = { path: url, authorization: request.headers.authorization, body: JSON.parse(text) as Record<string, unknown> };
      received.push(entry);
      for (const w of [...waiters]) {
        if (!w.predicate(entry)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(entry);
      }
    }
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(status < 300 ? { outcome: "applied" } : { error: "test says no" }));
  };
  const server = tls ? https.createServer(tls, handle) : http.createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    received,
    attempts,
    /** Resolves once `count` callbacks whose path matches have arrived; with the last of them. */
    nth(pathPattern: RegExp, count: number): Promise<Received> {
      const matches = () => received.filter((r) => pathPattern.test(r.path));
      if (matches().length >= count) return Promise.resolve(matches()[count - 1]!);
      return new Promise((resolve) =>
        waiters.push({ predicate: (r) => pathPattern.test(r.path) && matches().length >= count, resolve }),
      );
    },
    /** Every attempt, whatever it was answered (received holds the accepted ones only). */
    attemptLog,
    /** Resolves with the first attempt (already made or still to come) whose path matches, whatever its answer. */
    attempt(pathPattern: RegExp): Promise<Attempt> {
      const seen = attemptLog.find((a) => pathPattern.test(a.path));
      return seen ? Promise.resolve(seen) : new Promise((resolve) => attemptWaiters.push({ pattern: pathPattern, resolve }));
    },
    /** Resolves with the first callback (already received or still to come) that satisfies `predicate`. */
    until(predicate: (r: Received) => boolean): Promise<Received> {
      const seen = received.find(predicate);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    /** Resolves with the first callback (already received or still to come) whose path matches. */
    next(pathPattern: RegExp): Promise<Received> {
      const predicate = (r: Received) => pathPattern.test(r.path);
      const seen = received.find(predicate);
      return seen ? Promise.resolve(seen) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
    /** The control plane becomes unreachable: nothing listens on its port (connections are refused). */
    goDown: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
    /** It comes back on the same port. */
    comeBack: () => new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve())),
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

let counter = 0;

/**
 * The workspace a call addresses, for its token's claim as the control plane's client signs it:
 * the body's for POST /workspaces, the path's for the rest.
 */
export function addressedWorkspace(pathname: string, body: unknown): string | undefined {
  const [first, second] = new URL(pathname, "http://vm-agent").pathname.split("/").filter(Boolean);
  if (first !== "workspaces") return undefined;
  if (second !== undefined) {
    try {
      return decodeURIComponent(second);
    } catch {
      return second; // malformed: the daemon refuses the path before it looks at the claim
    }
  }
  const claimed = (body as { workspaceId?: unknown } | undefined)?.workspaceId;
  return typeof claimed === "string" ? claimed : undefined;
}

export type TestAgentOptions = Partial<VmAgentConfig> & {
  /** Reuse a work folder (a restarted vm-agent); a new one otherwise. */
  workDir?: string;
  key?: { key: SigningKey; publicJwk: Record<string, unknown> };
  /** The outbox's retry policy (the CALLBACK_* settings); fast retries unless a test needs another. */
  retryPolicy?: RetryPolicy;
  /** The daemon's log; silent unless a test looks at it. */
  log?: Logger;
};

export async function testKey() {
  const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
  return { key: { kid: "test", privateKey } as SigningKey, publicJwk: (await exportJWK(publicKey)) as Record<string, unknown> };
}

export async function startTestAgent(receiverUrl: string, overrides: TestAgentOptions = {}) {
  const { key, publicJwk } = overrides.key ?? (await testKey());
  const workDir = overrides.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-test-"));
  const runtime = await inProcessRuntime();
  const { workDir: _workDir, key: _key, retryPolicy, log = silentLogger, ...settings } = overrides;
  const policy = retryPolicy ?? { maxAttempts: 5, maxElapsedMs: 10_000, baseDelayMs: 20, maxDelayMs: 100, requestTimeoutMs: 5_000 };
  // The production defaults (config.ts), then what the tests change, then the test's own settings.
  const config: VmAgentConfig = {
    ...VmAgentConfigSchema.parse({
      VM_AGENT_PORT: 0,
      NODE_ID: `node-${process.pid}-${++counter}`,
      CONTROL_PLANE_URL: receiverUrl,
      NODE_CALLBACK_TOKEN: "node-callback-token",
      CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(publicJwk),
      VM_AGENT_WORK_DIR: workDir,
    }),
    // Off unless a test asks for heartbeats: the others' receivers stay quiet.
    HEARTBEAT_INTERVAL: 0,
    // Fast retries unless a test needs another policy.
    CALLBACK_MAX_ATTEMPTS: policy.maxAttempts,
    CALLBACK_MAX_ELAPSED: policy.maxElapsedMs,
    CALLBACK_BASE_DELAY: policy.baseDelayMs,
    CALLBACK_MAX_DELAY: policy.maxDelayMs,
    CALLBACK_REQUEST_TIMEOUT: policy.requestTimeoutMs,
    TLS_CERTIFICATE_LIFETIME: 86_400_000,
    VM_AGENT_HELPERS_DIR: runtime.VM_AGENT_HELPERS_DIR,
    CLAUDE_CODE_BIN: runtime.CLAUDE_CODE_BIN,
    CODEX_BIN: runtime.CODEX_BIN,
    CLAUDE_ALLOWED_TOOLS: "Bash,Edit,Write,Read",
    SETUP_TIMEOUT: 60_000,
    AGENT_TIMEOUT: 60_000,
    STOP_GRACE: 2_000,
    OUTPUT_FLUSH_INTERVAL: 100,
    EGRESS_REPORT_INTERVAL: 200,
    EGRESS_CONNECT_TIMEOUT: 5_000,
    ...settings,
  };
  // The daemon main.ts starts, in this process: it reports ready to the receiver as a node does.
  const agent = await startDaemon({ config, inherited: inheritedEnvironment(process.env), log, retryRandom: policy.random });
  const { port, certificateFingerprint, outbox, tmux } = agent;
  const base = `https://127.0.0.1:${port}`;
  /** A call as the control plane makes it: pinned to the certificate this daemon serves. */
  const fetchNode = (pathname: string, init?: Parameters<typeof pinnedFetch>[2]) => pinnedFetch({ id: config.NODE_ID, certificateFingerprint }, new URL(pathname, base), init);
  const token = (claims: { nodeId?: string; workspaceId?: string } = {}) =>
    signNodeManagementToken(key, { nodeId: claims.nodeId ?? config.NODE_ID, workspaceId: claims.workspaceId }, 60_000);
  return {
    base,
    certificateFingerprint,
    fetch: fetchNode,
    workDir,
    agent,
    config,
    outbox,
    tmux,
    async request(method: string, pathname: string, body?: unknown, auth: string | null = null) {
      const authorization = auth === null ? `Bearer ${await token({ workspaceId: addressedWorkspace(pathname, body) })}` : auth;
      const response = await fetchNode(pathname, {
        method,
        headers: { "content-type": "application/json", ...(authorization ? { authorization } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    token,
    /** Stops serving without touching tmux (a vm-agent exit). */
    detach: () => agent.close(),
    /** Stops serving, ends this agent's tmux server and removes its folder. */
    async close() {
      await agent.close();
      await tmux.killServer();
      await removeNodeUsers(config.NODE_ID);
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * The real daemon as its own process (for kill -9): `start()` launches one more `main.ts` on the
 * same work folder and node id and resolves with its endpoint once its node-ready callback arrived.
 */
let installed: Promise<{ command: string[]; env: Record<string, string> }> | undefined;

/**
 * How a test runs the daemon as its own process: as root, from the node runtime the local provider
 * installs (built from these sources), so its workspaces' users can run Node and its helpers
 * wherever this checkout is; as another user, from the sources with tsx.
 */
/**
 * What an in-process daemon run as root takes from the installed runtime: its helpers and the
 * agent CLIs, which its workspaces' users run (the checkout may sit where they cannot reach, as
 * in a `mktemp -d` folder). A test's own settings go over these. As another user: nothing.
 */
export async function inProcessRuntime(): Promise<{ VM_AGENT_HELPERS_DIR?: string; CLAUDE_CODE_BIN?: string; CODEX_BIN?: string }> {
  if (process.getuid?.() !== 0) return {};
  const { command, env } = await daemonCommand();
  return { VM_AGENT_HELPERS_DIR: path.join(path.dirname(command[1]!), "agents"), ...env };
}

export function daemonCommand(): Promise<{ command: string[]; env: Record<string, string> }> {
  if (process.getuid?.() !== 0) return Promise.resolve({ command: [process.execPath, "--import", "tsx", path.resolve(import.meta.dirname, "main.ts")], env: {} });
  installed ??= installLocalRuntime({ rootDir: path.resolve(import.meta.dirname, ".."), cacheDir: defaultArtifactCacheDir(), installDir: DEFAULT_LOCAL_RUNTIME_DIR }).then((runtime) => ({
    command: [runtime.node, runtime.vmAgent],
    env: runtime.agentClis as Record<string, string>,
  }));
  return installed;
}

export async function daemonProcess(
  receiver: Awaited<ReturnType<typeof startReceiver>>,
  extraEnv: Record<string, string> = {},
  as: { uid?: number; gid?: number } = {},
  /** A program (and its arguments) the daemon is started through, as the local provider's setpriv. */
  launcher: string[] = [],
) {
  const key = await testKey();
  const daemon = await daemonCommand();
  const nodeId = `node-proc-${process.pid}-${++counter}`;
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-proc-"));
  const env: Record<string, string> = {
    PATH: process.env.PATH!,
    HOME: process.env.HOME ?? "/tmp",
    VM_AGENT_PORT: "0",
    NODE_ID: nodeId,
    CONTROL_PLANE_URL: receiver.url,
    NODE_CALLBACK_TOKEN: await signNodeCallbackToken(key.key, { nodeId }, 600_000),
    CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(key.publicJwk),
    VM_AGENT_WORK_DIR: workDir,
    CALLBACK_BASE_DELAY: "50ms",
    ...daemon.env,
    ...extraEnv,
  };
  const children: ChildProcess[] = [];
  let starts = 0;
  /** What each start's ready callback reported: the certificate to pin at that endpoint. */
  const pins = new Map<string, string>();
  const fetchNode = (endpoint: string, pathname: string, init?: Parameters<typeof pinnedFetch>[2]) =>
    pinnedFetch({ id: nodeId, certificateFingerprint: pins.get(endpoint) ?? "no ready callback named this endpoint" }, new URL(pathname, endpoint), init);
  return {
    nodeId,
    workDir,
    async start() {
      // The daemon's whole environment; NODE_ENV is deliberately not part of it.
      const [file, ...args] = [...launcher, ...daemon.command];
      const child = spawn(file!, args, { env: env as NodeJS.ProcessEnv, stdio: "ignore", ...as });
      children.push(child);
      const ready = await receiver.nth(new RegExp(`/api/nodes/${nodeId}/ready$`), ++starts);
      const endpoint = String(ready.body.endpoint);
      const certificateFingerprint = String(ready.body.certificateFingerprint);
      pins.set(endpoint, certificateFingerprint);
      return { child, endpoint, certificateFingerprint };
    },
    /** Runs the daemon to its exit (one that refuses to start): its exit code and standard output. */
    async run(): Promise<{ code: number | null; stdout: string }> {
      const child = spawn(daemon.command[0]!, daemon.command.slice(1), { env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "inherit"], ...as });
      children.push(child);
      let stdout = "";
      child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      return { code, stdout };
    },
    async call(endpoint: string, method: string, pathname: string, body?: unknown) {
      const token = await signNodeManagementToken(key.key, { nodeId, workspaceId: addressedWorkspace(pathname, body) }, 60_000);
      const response = await fetchNode(endpoint, pathname, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      await response.body?.cancel();
      return response.status;
    },
    /** As `call`, with the answer's body. */
    async answer(endpoint: string, method: string, pathname: string, body?: unknown) {
      const token = await signNodeManagementToken(key.key, { nodeId, workspaceId: addressedWorkspace(pathname, body) }, 60_000);
      const response = await fetchNode(endpoint, pathname, { method, headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
      return { status: response.status, body: (await response.json()) as Record<string, unknown> };
    },
    /** A request to the daemon at `endpoint`, pinned to the certificate its ready callback reported. */
    fetch: fetchNode,
    async killHard(child: ChildProcess) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGKILL");
      await exited;
    },
    async cleanup() {
      for (const child of children) child.kill("SIGKILL");
      await new Tmux(defaultTmuxSocket(nodeId), inheritedEnvironment(process.env)).killServer();
      await removeNodeUsers(nodeId);
      fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * A key and a self-signed certificate for 127.0.0.1 (or `address`) in `dir` (`key.pem`, `cert.pem`, readable by all
 * so workspaces' users can trust it), made with openssl: a test's own HTTPS server, whose clients
 * trust `certFile` as their certificate authority.
 */
export function loopbackCertificate(dir: string, address = "127.0.0.1") {
  const keyFile = path.join(dir, "key.pem");
  const certFile = path.join(dir, "cert.pem");
  execFileSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile, "-days", "1", "-subj", `/CN=${address}`, "-addext", `subjectAltName=IP:${address}`], { stdio: "ignore" });
  fs.chmodSync(certFile, 0o644);
  return { keyFile, certFile, key: fs.readFileSync(keyFile, "utf8"), cert: fs.readFileSync(certFile, "utf8") };
}

/** Resolves once `file` exists and is not empty (watching its folder; no fixed sleeps). */
export function waitForFile(file: string): Promise<void> {
  const written = () => fs.existsSync(file) && fs.statSync(file).size > 0;
  return new Promise((resolve) => {
    const check = () => {
      if (!written()) return;
      watcher.close();
      resolve();
    };
    const watcher = fs.watch(path.dirname(file), check);
    check();
  });
}

/** True once the process is gone (or a zombie nobody has reaped yet). */
export function gone(pid: number) {
  if (!alive(pid)) return true;
  const stat = fs.existsSync(`/proc/${pid}/stat`) ? fs.readFileSync(`/proc/${pid}/stat`, "utf8") : "";
  return stat === "" || stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
}

/** A workspace request as the control plane sends it, for the tests. */
export const workspaceRequest = (repository: string, extra: Record<string, unknown> = {}) => ({
  workspaceId: "w_1",
  taskId: "t_1",
  repository,
  branch: "agents/test-1",
  callbackToken: "callback-token-w1",
  ...extra,
});

