/** Runs programs with an argument array (never a shell string), capturing output. */
import { spawn } from "node:child_process";

/** "500ms", "10s", "4h": how long a timeout was, for messages. */
export const formatMs = (ms: number) => (ms < 1000 ? `${ms}ms` : ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${Math.round(ms / 1000)}s`);

export type ExecResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; timedOut?: boolean };

export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly result: ExecResult,
    timeoutMs?: number,
  ) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-15).join("\n");
    const how = result.timedOut ? `timed out after ${formatMs(timeoutMs ?? 0)}` : `failed (${result.signal ?? `exit ${result.code}`})`;
    super(`${command} ${how}${tail ? `: ${tail}` : ""}`);
  }
}

const MAX_OUTPUT = 256 * 1024;

export type RunOptions = {
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** false: a non-zero exit resolves instead of rejecting. */
  check?: boolean;
  /** How the command is named in errors; default the program and its first two arguments. */
  label?: string;
  /** Run as its own process group and kill the whole group on timeout (scripts that start children). */
  group?: boolean;
  /** Aborting kills the program (its whole group with `group`); the call then rejects. */
  signal?: AbortSignal;
  /** Run as this user and group (the workspace's own user); Node then drops supplementary groups. */
  user?: { uid: number; gid: number };
  /** Called with each chunk of stdout and stderr as it comes (a setup script's live log). */
  onOutput?: (text: string, stream: "stdout" | "stderr") => void;
  /** Keep the first `maxOutput` bytes of stdout (a diff is read from its start) instead of the last MAX_OUTPUT. */
  stdoutHead?: number;
  /** Stdout goes straight to this descriptor (opened by the daemon), whole and unread (a bundle made as a workspace's user). */
  stdoutFd?: number;
};

export function run(file: string, args: string[], options: RunOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    // An explicit environment is the whole environment (NODE_ENV included only if the caller passes it).
    const child = spawn(file, args, { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv | undefined, stdio: ["ignore", options.stdoutFd ?? "pipe", "pipe"], detached: options.group === true, ...(options.user ? { uid: options.user.uid, gid: options.user.gid } : {}) });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const head: Buffer[] = [];
    let headBytes = 0;
    child.stdout?.on("data", (d: Buffer) => {
      if (options.stdoutHead === undefined) stdout = (stdout + d.toString()).slice(-MAX_OUTPUT);
      else if (headBytes < options.stdoutHead) {
        head.push(d.subarray(0, options.stdoutHead - headBytes));
        headBytes += Math.min(d.length, options.stdoutHead - headBytes);
      }
    });
    child.stderr?.on("data", (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-MAX_OUTPUT);
      options.onOutput?.(d.toString(), "stderr");
    });
    if (options.onOutput) child.stdout?.on("data", (d: Buffer) => options.onOutput!(d.toString(), "stdout"));
    const kill = () => {
      timedOut = true;
      try {
        if (options.group && child.pid) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
    };
    const timer = options.timeoutMs ? setTimeout(kill, options.timeoutMs) : undefined;
    let aborted = false;
    const abort = () => {
      aborted = true;
      kill();
    };
    if (options.signal?.aborted) abort();
    else options.signal?.addEventListener("abort", abort, { once: true });
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      options.signal?.removeEventListener("abort", abort);
      if (aborted) return reject(new Error(`${options.label ?? file} was stopped`));
      if (options.stdoutHead !== undefined) stdout = Buffer.concat(head).toString("utf8");
      const result: ExecResult = { code, signal, stdout, stderr, ...(timedOut ? { timedOut } : {}) };
      const label = options.label ?? [file, ...args.slice(0, 2)].join(" ");
      if (options.check !== false && code !== 0) reject(new ExecError(label, result, options.timeoutMs));
      else resolve(result);
    });
  });
}
