/** Process helpers of the runtime: liveness, killing a process group, resolving an agent's binary. */
import fs from "node:fs";
import path from "node:path";

export class RuntimeError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export { isAlive as alive } from "../../lib/process";

/** SIGKILL to the process group led by `pid`, then to `pid` itself. */
export function killGroup(pid: number) {
  for (const target of [-pid, pid]) {
    try {
      process.kill(target, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

/** The agent binary as an absolute path, found before the untrusted worktree becomes the working directory. */
export function resolveBinary(binary: string, searchPath: string): string {
  if (path.isAbsolute(binary)) return binary;
  if (binary.includes("/")) throw new RuntimeError(500, `agent binary must be a name or an absolute path: ${binary}`);
  for (const dir of searchPath.split(":")) {
    if (!path.isAbsolute(dir)) continue; // a relative PATH entry would resolve inside the worktree
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // Not here.
    }
  }
  throw new RuntimeError(500, `agent binary ${binary} not found on PATH`);
}
