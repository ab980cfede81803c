import net from "node:net";
import { z } from "zod";

/** A loopback port that was free a moment ago (the caller binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** `address/prefix` with the address in its canonical form; a bare address is one host (/32, /128). Undefined when it is not one. */
export function parseCidr(text: string): string | undefined {
  const [address = "", prefix, extra] = text.trim().split("/");
  const version = net.isIP(address);
  if (!version || extra !== undefined) return undefined;
  const max = version === 4 ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return undefined;
  const bits = prefix === undefined ? max : Number(prefix);
  if (bits > max) return undefined;
  // Kept as given: a network whose host bits are set is the firewall's to refuse, with its own message.
  return `${address.toLowerCase()}/${bits}`;
}

/** A comma- or space-separated list of CIDRs (an environment setting), each checked; the result is the list. */
export const cidrList = z
  .string()
  .transform((text, ctx) => {
    const entries = text.split(/[\s,]+/).filter(Boolean);
    const parsed: string[] = [];
    for (const entry of entries) {
      const cidr = parseCidr(entry);
      if (cidr) parsed.push(cidr);
      else ctx.addIssue({ code: "custom", message: `${JSON.stringify(entry)} is not an IPv4 or IPv6 address or CIDR (e.g. 203.0.113.7/32)` });
    }
    return parsed;
  });

/** `localhost`, `127.x.y.z` or `[::1]`, with or without a port. */
export function isLoopbackHost(host: string): boolean {
  const name = host.startsWith("[") ? host.slice(0, host.indexOf("]") + 1) : host.replace(/:\d+$/, "");
  const lower = name.toLowerCase();
  return lower === "localhost" || lower === "[::1]" || /^127(\.\d{1,3}){3}$/.test(lower);
}

/** Whether an address to bind to keeps the app on this machine. */
export function isLoopbackAddress(address: string): boolean {
  return address === "::1" || isLoopbackHost(address);
}
