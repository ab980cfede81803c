/**
 * For tests of the node installer: a throwaway root folder that stands in for a new machine.
 * Writes a cloud-init document's `write_files` under it, runs its `runcmd` with the root prefix
 * (ACP_ROOT, and the written files' paths moved under the root), and starts the installed systemd
 * unit the way systemd would: its `ExecStart` with its `EnvironmentFile`, nothing else of ours.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { parse } from "yaml";

export type CloudConfig = {
  package_update?: boolean;
  packages?: string[];
  write_files?: { path: string; owner?: string; permissions?: string; content: string }[];
  runcmd?: (string | string[])[];
};

export function parseCloudConfig(text: string): CloudConfig {
  if (!text.startsWith("#cloud-config\n")) throw new Error("not a #cloud-config document");
  return parse(text, { version: "1.1" }) as CloudConfig;
}

export function throwawayRoot() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "acp-node-root-"));
  // It stands for a machine's `/`, which every user passes through (mkdtemp makes it 0700).
  fs.chmodSync(root, 0o755);
  return root;
}

export function writeFilesUnder(root: string, document: CloudConfig) {
  for (const file of document.write_files ?? []) {
    const target = path.join(root, file.path);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, file.content, { mode: Number.parseInt(file.permissions ?? "0644", 8) });
  }
}

/** A child's whole environment, an allow-list: Next's typings want NODE_ENV in every ProcessEnv, and these have none. */
export const childEnv = (env: Record<string, string>) => env as NodeJS.ProcessEnv;

export type CommandResult = { code: number | null; stdout: string; stderr: string };

function run(command: string[], env: Record<string, string>): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0]!, command.slice(1), { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** The document's runcmd entries under `root`: every argument naming a written file names it there. Stops at the first failure. */
export async function runCommandsUnder(root: string, document: CloudConfig, env: Record<string, string>): Promise<CommandResult & { commands: string[][] }> {
  const written = new Set((document.write_files ?? []).map((file) => file.path));
  const commands = (document.runcmd ?? []).map((entry) => (typeof entry === "string" ? ["sh", "-c", entry] : entry));
  let last: CommandResult = { code: 0, stdout: "", stderr: "" };
  for (const command of commands) {
    last = await run(
      command.map((arg) => (written.has(arg) ? path.join(root, arg) : arg)),
      { ...env, ACP_ROOT: root },
    );
    if (last.code !== 0) break;
  }
  return { ...last, commands };
}

export type Unit = { lines: string[]; execStart: string[]; environmentFile: string; workingDirectory?: string; value(key: string): string | undefined };

export function readUnit(file: string): Unit {
  const lines = fs.readFileSync(file, "utf8").split("\n");
  const value = (key: string) => lines.find((line) => line.startsWith(`${key}=`))?.slice(key.length + 1);
  const execStart = value("ExecStart");
  const environmentFile = value("EnvironmentFile");
  if (!execStart || !environmentFile) throw new Error(`${file} has no ExecStart or EnvironmentFile`);
  return { lines, execStart: execStart.split(/\s+/), environmentFile, workingDirectory: value("WorkingDirectory"), value };
}

/** An EnvironmentFile of `KEY='value'` lines (the form the installer writes). */
export function readEnvironmentFile(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const match = /^([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line);
    if (match) env[match[1]!] = match[2]!;
    else if (line.trim() !== "") throw new Error(`unexpected line in ${file}: ${line.slice(0, 40)}`);
  }
  return env;
}

/** The PATH systemd gives a system service. */
const SYSTEMD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/**
 * Starts the unit's command as systemd would (in its own process group, so a test can stop all of
 * it); its output goes to `logFile`. `machineEnv`: what the machine itself gives every process (a
 * certificate authority it trusts, as NODE_EXTRA_CA_CERTS), not the unit's.
 */
export function startUnit(unit: Unit, logFile: string, machineEnv: Record<string, string> = {}): ChildProcess {
  const out = fs.openSync(logFile, "a");
  const child = spawn(unit.execStart[0]!, unit.execStart.slice(1), {
    env: childEnv({ PATH: SYSTEMD_PATH, ...machineEnv, ...readEnvironmentFile(unit.environmentFile) }),
    cwd: unit.workingDirectory ?? "/",
    stdio: ["ignore", out, out],
    detached: true,
  });
  fs.closeSync(out);
  return child;
}

export async function stopUnit(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  process.kill(-child.pid!, "SIGTERM");
  await exited;
}

export type StandInRoute = (request: Request) => Promise<Response> | Response;

/**
 * An HTTP server standing in for the control plane: each request goes to the first route whose
 * pattern matches its method and path, as a Fetch API Request (how Next hands it to a route handler).
 */
export async function startControlPlaneStandIn(routes: { method: string; path: RegExp; handle: StandInRoute }[], port = 0) {
  const server = http.createServer(async (incoming, outgoing) => {
    try {
      const url = new URL(incoming.url ?? "/", "http://127.0.0.1");
      const route = routes.find((r) => r.method === incoming.method && r.path.test(url.pathname));
      if (!route) {
        outgoing.writeHead(404).end();
        return;
      }
      const headers = new Headers();
      for (const [name, value] of Object.entries(incoming.headers)) if (typeof value === "string") headers.set(name, value);
      // What `next start` adds when no proxy did: the peer's address (machines register from it).
      if (!headers.has("x-forwarded-for") && incoming.socket.remoteAddress) headers.set("x-forwarded-for", incoming.socket.remoteAddress);
      let body: Buffer | undefined;
      if (incoming.method !== "GET" && incoming.method !== "HEAD") {
        const chunks: Buffer[] = [];
        for await (const chunk of incoming) chunks.push(chunk as Buffer);
        body = Buffer.concat(chunks);
      }
      const response = await route.handle(new Request(url, { method: incoming.method, headers, body: body ? new Uint8Array(body) : undefined }));
      outgoing.writeHead(response.status, Object.fromEntries(response.headers));
      // The DOM and Node typings of a web stream differ only in name: the body is the one Node made.
      if (response.body) await pipeline(Readable.fromWeb(response.body as unknown as NodeReadableStream<Uint8Array>), outgoing);
      else outgoing.end();
    } catch (error) {
      if (!outgoing.headersSent) outgoing.writeHead(500);
      outgoing.end(String(error));
    }
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** What install tests leave behind (started units, their nodes' tmux servers, throwaway roots), removed by `clean` after each test. */
export function installLeftovers() {
  const units: ChildProcess[] = [];
  const nodeIds: string[] = [];
  const roots: string[] = [];
  return {
    units,
    nodeIds,
    roots,
    async clean() {
      await Promise.all(units.splice(0).map(stopUnit));
      for (const nodeId of nodeIds.splice(0)) {
        try {
          execFileSync("tmux", ["-L", `acp-${nodeId}`, "kill-server"], { stdio: "ignore" });
        } catch {
          // No tmux server was started for it.
        }
      }
      for (const root of roots.splice(0)) fs.rmSync(root, { recursive: true, force: true });
    },
  };
}

/** Reads until `read` gives a value (every `everyMs`), or fails naming `what` after `timeoutMs`. */
export async function waitUntil<T>(what: string, read: () => Promise<T | undefined>, timeoutMs = 60_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
