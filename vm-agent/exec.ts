/** Runs programs with an argument array (never a shell string), capturing output. */
import { spawn } from "node:child_process";

export type ExecResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export class ExecError extends Error {
  constructor(
    readonly command: string,
    readonly result: ExecResult,
  ) {
    const tail = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-15).join("\n");
    super(`${command} failed (${result.signal ?? `exit ${result.code}`})${tail ? `: ${tail}` : ""}`);
  }
}

const MAX_OUTPUT = 256 * 1024;

export function run(
  file: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number; check?: boolean } = {},
): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    // An explicit environment is the whole environment (NODE_ENV included only if the caller passes it).
    const child = spawn(file, args, { cwd: options.cwd, env: options.env as NodeJS.ProcessEnv | undefined, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-MAX_OUTPUT)));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-MAX_OUTPUT)));
    const timer = options.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), options.timeoutMs) : undefined;
    child.on("error", (error) => {
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      if (timer) clearTimeout(timer);
      const result = { code, signal, stdout, stderr };
      if (options.check !== false && code !== 0) reject(new ExecError([file, ...args.slice(0, 2)].join(" "), result));
      else resolve(result);
    });
  });
}
