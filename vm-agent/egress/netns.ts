/**
 * A workspace's network namespace (`ip netns`, `/run/netns/<name>`; the name is the workspace
 * user's): only `lo`, up, in it, no other interface and no route, so nothing of the host (its
 * loopback, the control plane, other daemons, the metadata address) answers from inside. Made and
 * deleted here; its one way out, the forwarder to the proxy, is forwarder.ts.
 */
import fs from "node:fs";
import path from "node:path";
import { run } from "../exec";

export const NSENTER = "/usr/bin/nsenter";
const IP_CANDIDATES = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"];
const NETNS_DIR = "/run/netns";
/**
 * The workspaces' proxy sockets: root's folder that others may only pass through, outside the
 * daemon's state (0700, which the users cannot pass) and short, since a socket's path is at most
 * 107 bytes and a work folder can be deep. Names are the users' (a hash of node and workspace).
 */
export const SOCKET_DIR = "/run/agent-control-plane/egress";
export const TOOL_ENV: Record<string, string> = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };

export const ipTool = () => IP_CANDIDATES.find((candidate) => fs.existsSync(candidate));
export const namespacePath = (name: string) => path.join(NETNS_DIR, name);
export const socketPath = (name: string) => path.join(SOCKET_DIR, `${name}.sock`);

async function ip(args: string[]) {
  const tool = ipTool();
  if (!tool) throw new Error("ip (iproute2) is not installed");
  return run(tool, args, { env: TOOL_ENV, timeoutMs: 30_000, label: `ip ${args.slice(0, 3).join(" ")}` });
}

/** Brings `lo` up in the namespace (idempotent). */
const loopbackUp = (name: string) => run(NSENTER, [`--net=${namespacePath(name)}`, "--", ipTool() ?? "ip", "link", "set", "lo", "up"], { env: TOOL_ENV, timeoutMs: 30_000, label: "ip link set lo up" });

/** The namespace, made now or kept from before (a daemon restart); a leftover that is not one is made again. */
export async function ensureNamespace(name: string) {
  if (fs.existsSync(namespacePath(name))) {
    try {
      await loopbackUp(name);
      return;
    } catch {
      await removeNamespace(name); // a file of an interrupted `ip netns add`, not a namespace
    }
  }
  await ip(["netns", "add", name]);
  await loopbackUp(name);
}

/** Deletes the namespace and the workspace's proxy socket (nothing when they are gone already). */
export async function removeNamespace(name: string) {
  fs.rmSync(socketPath(name), { force: true });
  if (!fs.existsSync(namespacePath(name))) return;
  await ip(["netns", "delete", name]);
}

