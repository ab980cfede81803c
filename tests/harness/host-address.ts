import os from "node:os";

/** This machine's first IPv4 address that is not loopback, if it has one. */
export function nonLoopbackAddress(): string | undefined {
  return Object.values(os.networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .find((entry) => entry.family === "IPv4" && !entry.internal)?.address;
}

/**
 * Where a test's double listens when a workspace must reach it (loopback never is reachable from
 * a workspace's network namespace): this machine's first non-loopback IPv4 address.
 */
export function hostAddress(): string {
  const address = nonLoopbackAddress();
  if (!address) throw new Error("this machine has no IPv4 address but loopback: a workspace's egress cannot be tested here");
  return address;
}
