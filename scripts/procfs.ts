/**
 * What the runner needs to know about other processes, read from /proc (no external tools): a
 * process's command line and start time (so a recycled pid is never mistaken for ours), the
 * members of a process group, who listens on a TCP port, and stopping a process group politely.
 * Where /proc is missing (macOS), `ps` stands in for the command line and the rest degrades.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import { isAlive } from "../lib/contracts/process";

const HAS_PROC = fs.existsSync("/proc/self/stat");

/** The process's arguments joined by spaces (NUL padding left by a changed process title dropped); undefined when it is gone. */
export function commandLine(pid: number): string | undefined {
  if (!HAS_PROC) {
    try {
      return execFileSync("ps", ["-o", "args=", "-p", String(pid)], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim() || undefined;
    } catch {
      return undefined;
    }
  }
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
    const args = raw.split("\0").filter((a) => a !== "");
    return args.length > 0 ? args.join(" ") : undefined;
  } catch {
    return undefined;
  }
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces and parentheses). */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  } catch {
    return undefined;
  }
}

/** When the process started, in clock ticks since boot (stat field 22): with the pid, it names one process for good. */
export function startTime(pid: number): number | undefined {
  const fields = statFields(pid);
  // Field 3 (state) is fields[0], so field 22 is fields[19].
  return fields?.[19] === undefined ? undefined : Number(fields[19]);
}

/** Alive and not a zombie nobody has reaped yet. */
export function running(pid: number): boolean {
  if (!isAlive(pid)) return false;
  const fields = statFields(pid);
  return fields === undefined ? !HAS_PROC : fields[0] !== "Z";
}

/** Processes (not zombies) whose process group is `pgid`. */
export function groupMembers(pgid: number): number[] {
  if (!HAS_PROC) return running(pgid) ? [pgid] : [];
  const members: number[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const fields = statFields(Number(entry));
    // fields[0] is the state, fields[2] the process group.
    if (fields && fields[0] !== "Z" && Number(fields[2]) === pgid) members.push(Number(entry));
  }
  return members;
}

const signalGroup = (pgid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone.
  }
};

/**
 * SIGTERM to the process group led by `pgid`, SIGKILL to what is left of it after `graceMs`;
 * resolves once no member of the group runs.
 */
export async function stopProcessGroup(pgid: number, graceMs = 5_000): Promise<void> {
  if (groupMembers(pgid).length === 0) return;
  signalGroup(pgid, "SIGTERM");
  const deadline = Date.now() + graceMs;
  let killed = false;
  while (groupMembers(pgid).length > 0) {
    if (!killed && Date.now() >= deadline) {
      signalGroup(pgid, "SIGKILL");
      killed = true;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export type PortHolder = { pid: number; commandLine: string } | { pid: undefined; inode: number | undefined };

/** Socket inodes listening on `port` (any address), from /proc/net/tcp and tcp6. */
function listeningInodes(port: number): number[] {
  const inodes: number[] = [];
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const columns = line.trim().split(/\s+/);
      if (columns.length < 10) continue;
      const localPort = parseInt(columns[1]!.split(":").pop()!, 16);
      // State 0A is LISTEN; column 9 is the socket's inode.
      if (localPort === port && columns[3] === "0A") inodes.push(Number(columns[9]));
    }
  }
  return inodes;
}

/** The process that listens on `port`: found through its socket's inode among every process's open files. */
export function portHolder(port: number): PortHolder {
  const inodes = new Set(listeningInodes(port).map((i) => `socket:[${i}]`));
  if (inodes.size === 0) return { pid: undefined, inode: undefined };
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // Gone, or another user's.
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = fs.readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      if (inodes.has(target)) {
        const pid = Number(entry);
        return { pid, commandLine: commandLine(pid) ?? "(command line unknown)" };
      }
    }
  }
  return { pid: undefined, inode: Number([...inodes][0]!.slice(8, -1)) };
}

/** Whether `127.0.0.1:port` can be listened on right now (a real bind, released at once). */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen({ port, host: "127.0.0.1", exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** One line saying what holds `port`, for an error message. */
export function describePortHolder(port: number): string {
  const holder = portHolder(port);
  if (holder.pid !== undefined) return `pid ${holder.pid} (${holder.commandLine})`;
  if (!HAS_PROC) return `another process (see \`lsof -nP -iTCP:${port} -sTCP:LISTEN\`)`;
  return holder.inode === undefined
    ? "another process"
    : `a process this user cannot see (socket inode ${holder.inode}; as root: \`ss -ltnp 'sport = :${port}'\`)`;
}
