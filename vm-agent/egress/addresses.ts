/**
 * IP addresses as the egress proxy judges them: parsed to numbers (IPv4 32 bits, IPv6 128 bits),
 * matched against ranges, and sorted into the classes that decide whether a workspace may reach
 * them. An IPv6 address that carries an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
 * 6to4 `2002::/16`) is judged as that IPv4 address too: it reaches it.
 */
import net from "node:net";

export type Address = { family: 4; value: bigint } | { family: 6; value: bigint };
export type Range = { family: 4 | 6; base: bigint; prefix: number };

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split(".");
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((value, part) => (value << 8n) | BigInt(Number(part)), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  if (!net.isIPv6(text)) return undefined;
  let groups: number[] = [];
  const [head, tail] = text.includes("::") ? text.split("::") : [text, undefined];
  const toGroups = (part: string) => {
    if (part === "") return [];
    const out: number[] = [];
    for (const piece of part.split(":")) {
      if (piece.includes(".")) {
        const v4 = parseIpv4(piece)!;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else out.push(parseInt(piece, 16));
    }
    return out;
  };
  const first = toGroups(head!);
  if (tail === undefined) groups = first;
  else {
    const last = toGroups(tail);
    groups = [...first, ...new Array<number>(8 - first.length - last.length).fill(0), ...last];
  }
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

/** An address from its text (`10.0.0.1`, `::1`, `[fe80::1%eth0]`); undefined when it is not one. */
export function parseAddress(text: string): Address | undefined {
  const bare = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  const v4 = parseIpv4(bare);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseIpv6(bare);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

/** A range from `address/prefix` or a single address (a /32 or /128). */
export function parseRange(text: string): Range | undefined {
  const [address, prefixText] = text.split("/");
  const parsed = parseAddress(address!);
  if (!parsed) return undefined;
  const bits = parsed.family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? bits : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return undefined;
  return { family: parsed.family, base: parsed.value, prefix };
}

const range = (text: string) => parseRange(text)!;

export function inRange(address: Address, r: Range): boolean {
  if (address.family !== r.family) return false;
  const bits = BigInt(address.family === 4 ? 32 : 128);
  const shift = bits - BigInt(r.prefix);
  return address.value >> shift === r.base >> shift;
}

/** The IPv4 address an IPv6 address carries (mapped, NAT64, 6to4), if any. */
export function embeddedIpv4(address: Address): Address | undefined {
  if (address.family !== 6) return undefined;
  if (inRange(address, range("::ffff:0:0/96")) || inRange(address, range("64:ff9b::/96"))) return { family: 4, value: address.value & 0xffffffffn };
  if (inRange(address, range("2002::/16"))) return { family: 4, value: (address.value >> 80n) & 0xffffffffn };
  return undefined;
}

/** Never reachable from a workspace, whatever anyone allows: loopback, unspecified, link-local (cloud metadata), multicast, broadcast. */
const LOCAL = ["0.0.0.0/8", "127.0.0.0/8", "169.254.0.0/16", "224.0.0.0/4", "255.255.255.255/32", "::/128", "::1/128", "fe80::/10", "ff00::/8"].map(range);

/**
 * Not public: private networks, carrier-grade NAT, the IETF's and the documentation and
 * benchmarking ranges, reserved space. Reachable only where a person allows them (allowPrivate).
 */
const PRIVATE = [
  "10.0.0.0/8",
  "100.64.0.0/10",
  "172.16.0.0/12",
  "192.0.0.0/24",
  "192.0.2.0/24",
  "192.168.0.0/16",
  "198.18.0.0/15",
  "198.51.100.0/24",
  "203.0.113.0/24",
  "240.0.0.0/4",
  "fc00::/7",
  "fec0::/10",
  "100::/64",
  "2001:db8::/32",
].map(range);

export type AddressClass = "local" | "private" | "public";

/** The class of an address; one that carries an IPv4 address takes the stricter of the two classes. */
export function classify(address: Address): AddressClass {
  const inner = embeddedIpv4(address);
  const own: AddressClass = LOCAL.some((r) => inRange(address, r)) ? "local" : PRIVATE.some((r) => inRange(address, r)) ? "private" : "public";
  if (!inner) return own;
  const carried = classify(inner);
  const order: AddressClass[] = ["local", "private", "public"];
  return order[Math.min(order.indexOf(own), order.indexOf(carried))]!;
}

export function sameAddress(a: Address, b: Address) {
  return a.family === b.family && a.value === b.value;
}

/** The address, or the IPv4 address it carries, equals one of `others`. */
export function isOneOf(address: Address, others: Address[]) {
  const inner = embeddedIpv4(address);
  return others.some((other) => sameAddress(address, other) || (inner !== undefined && sameAddress(inner, other)));
}

/** The address, or the IPv4 address it carries, is in one of `ranges`. */
export function inAnyRange(address: Address, ranges: Range[]) {
  const inner = embeddedIpv4(address);
  return ranges.some((r) => inRange(address, r) || (inner !== undefined && inRange(inner, r)));
}
