import os from "node:os";

/**
 * This machine's first IPv4 address that is not loopback: where a test's double listens when a
 * workspace must reach it (loopback never is reachable from a workspace's network namespace).
 */
export function hostAddress(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === "IPv4" && !address.internal) return address.address;
  }
  throw new Error("this machine has no IPv4 address but loopback: a workspace's egress cannot be tested here");
}
