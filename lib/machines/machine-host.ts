/**
 * The host a registering machine's daemon will be reached at: the one the installer advertised
 * (ACP_AGENT_PUBLIC_HOST: a machine behind NAT, or one reached by name), else the address its
 * registration came from: the last X-Forwarded-For hop, which is the socket's peer as `next start`
 * records it, or what the reverse proxy in front of it saw. Either way the registration token's
 * holder declares it, once; the node's own token can never move it (provider.ts).
 */
import net from "node:net";
import { MachineRegistrationError } from "./errors";

/** An IPv4 address carried in IPv6 (`::ffff:203.0.113.7`, how a dual-stack socket names IPv4 peers) as itself. */
function plainAddress(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}

/** The last hop of an X-Forwarded-For header, when it is an IP address. */
export function forwardedPeer(header: string | null): string | undefined {
  const last = header?.split(",").at(-1)?.trim();
  if (!last) return undefined;
  const address = plainAddress(last.replace(/^\[(.*)\]$/, "$1"));
  return net.isIP(address) ? address : undefined;
}

export function machineHost(input: { advertised?: string; forwardedFor: string | null }): string {
  if (input.advertised) return net.isIP(input.advertised) ? plainAddress(input.advertised) : input.advertised.toLowerCase();
  const peer = forwardedPeer(input.forwardedFor);
  if (!peer) {
    throw new MachineRegistrationError(
      "address",
      "the control plane cannot tell this machine's address from the request; run the installer with ACP_AGENT_PUBLIC_HOST set to the address it reaches the machine at",
    );
  }
  return peer;
}
