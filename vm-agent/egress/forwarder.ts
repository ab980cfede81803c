/**
 * A workspace's one way out of its namespace (netns.ts): the forwarder, socat run in the namespace
 * as the workspace's user, listening on 127.0.0.1:<port> there and passing each connection to the
 * workspace's own Unix socket, where the daemon's proxy listens (a path socket is a file, reachable
 * across network namespaces; the socket is the user's alone, so the proxy knows which workspace
 * asks). The forwarder is its own session and outlives the daemon, as the agents do; the next
 * daemon adopts it.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { notRoot, SETPRIV, type WorkspaceUser } from "../users";
import { ensureNamespace, ipTool, namespacePath, NSENTER, removeNamespace, TOOL_ENV } from "./netns";

export const SOCAT = "/usr/bin/socat";

/** `argv` run in the namespace as the user: nsenter (root) joins it, setpriv drops to the user for good. */
export function insideNamespace(name: string, user: { uid: number; gid: number }, argv: string[]): string[] {
  return [NSENTER, `--net=${namespacePath(name)}`, "--", SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--no-new-privs", "--", ...argv];
}

/** Why this daemon cannot give workspaces namespaces, or undefined when it can (a probe namespace is made and deleted). */
export async function cannotMakeNamespaces(): Promise<string | undefined> {
  const unprivileged = notRoot();
  if (unprivileged) return unprivileged;
  const missing = [ipTool() ? undefined : "ip (Debian package iproute2)", ...[[NSENTER, "util-linux"], [SETPRIV, "util-linux"], [SOCAT, "socat"]].map(([tool, pkg]) => (fs.existsSync(tool!) ? undefined : `${tool} (Debian package ${pkg})`))].filter(Boolean);
  if (missing.length) return `missing ${missing.join(", ")}`;
  const probe = `acpprobe${process.pid}`;
  try {
    await ensureNamespace(probe);
    return undefined;
  } catch (error) {
    return `it could not make a network namespace: ${(error as Error).message.split("\n").slice(0, 3).join(" ")}`;
  } finally {
    await removeNamespace(probe).catch(() => undefined);
  }
}

/** The socat forwarder's command line, as /proc shows it (its arguments say which workspace and port it serves). */
const forwarderArgs = (port: number, socket: string) => [SOCAT, `TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr`, `UNIX-CONNECT:${socket}`];

/** Whether `pid` is the forwarder of this socket and port, running as the user. */
export function isForwarder(pid: number, user: WorkspaceUser, port: number, socket: string): boolean {
  try {
    const argv = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const uid = Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]);
    return uid === user.uid && argv.join("\0") === forwarderArgs(port, socket).join("\0");
  } catch {
    return false;
  }
}

/** Whether something in the namespace of `pid` listens on 127.0.0.1:`port` (its /proc/<pid>/net/tcp is that namespace's). */
function listening(pid: number, port: number): boolean {
  try {
    const wanted = `0100007F:${port.toString(16).toUpperCase().padStart(4, "0")}`;
    return fs
      .readFileSync(`/proc/${pid}/net/tcp`, "utf8")
      .split("\n")
      .some((line) => {
        const fields = line.trim().split(/\s+/);
        return fields[1] === wanted && fields[3] === "0A";
      });
  } catch {
    return false;
  }
}

/**
 * Starts the forwarder in the namespace as the user, as its own session (it outlives the daemon),
 * and resolves with its pid once it listens; rejects when it exits or does not listen in `timeoutMs`.
 */
export async function startForwarder(name: string, user: WorkspaceUser, port: number, socket: string, timeoutMs: number): Promise<number> {
  const [file, ...args] = insideNamespace(name, user, forwarderArgs(port, socket));
  // No pipe to the daemon: it outlives the daemon, and a write to a closed pipe would end it.
  const child = spawn(file!, args, { detached: true, stdio: "ignore", env: TOOL_ENV as NodeJS.ProcessEnv });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once("spawn", () => resolve(child.pid!));
    child.once("error", reject);
  });
  let exited: string | undefined;
  child.once("exit", (code, signal) => (exited = `the forwarder (socat in the workspace's namespace) exited: ${signal ?? `exit ${code}`}`));
  const deadline = Date.now() + timeoutMs;
  // nsenter and setpriv exec: the pid becomes socat's, and its /proc/<pid>/net is the namespace's.
  while (!listening(pid, port)) {
    if (exited) throw new Error(exited);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`the forwarder did not listen on 127.0.0.1:${port} in the workspace's namespace within ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  child.unref(); // adopted by pid after a restart

  return pid;
}
