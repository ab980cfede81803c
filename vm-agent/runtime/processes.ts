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

export { isAlive as alive } from "../../lib/contracts/process";

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

/**
 * Kills every process working inside `dir` (its cwd is there) with its process group: what a
 * daemon killed during provisioning left running. Returns the pids it found.
 */
export function killProcessesIn(dir: string): number[] {
  const root = path.resolve(dir) + path.sep;
  const found: number[] = [];
  for (const entry of fs.existsSync("/proc") ? fs.readdirSync("/proc") : []) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (!(fs.readlinkSync(`/proc/${entry}/cwd`) + path.sep).startsWith(root)) continue;
      // Field 5 of stat is the process group; the command name (field 2) may hold spaces, so read after ")".
      const stat = fs.readFileSync(`/proc/${entry}/stat`, "utf8");
      const pgid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      found.push(Number(entry));
      killGroup(pgid > 1 ? pgid : Number(entry));
    } catch {
      // Gone, or not ours to read.
    }
  }
  return found;
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
