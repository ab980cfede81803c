/**
 * The egress proxy's decision, without any network of its own (the name lookup and the node's
 * addresses are handed in): may this workspace open a connection to `host:port`, and if so to
 * which addresses. The policy decides which names (contracts/egress.ts); then the name is always
 * resolved and every address it resolves to is judged, so a name that points at loopback, the
 * metadata service or a private network is refused like the address itself. The proxy then
 * connects to a checked address and never resolves again (no DNS rebinding between check and use).
 */
import type { EgressPolicy, EgressRefusalReason } from "../../lib/contracts/egress";
import { classify, inAnyRange, isOneOf, parseAddress, parseRange, type Address, type Range } from "./addresses";

/** What a workspace's proxy applies: its egress request, and the model API hosts of the agents started in it. */
export type EgressRules = {
  policy: EgressPolicy;
  allowHosts: string[];
  allowPrivate: string[];
  denyHosts: string[];
  /** `host:port` of each agent's model API (allowed under `allow-list` on that port only). */
  modelHosts: string[];
};

export type EgressContext = {
  /** Every address a name resolves to (getaddrinfo's answer); rejects when it resolves to none. */
  lookup: (host: string) => Promise<string[]>;
  /** The node's own interface addresses. */
  ownAddresses: () => string[];
  /** Hosts never reachable beside the rules' denyHosts: the control plane's, the node's public name. */
  alwaysDenied: string[];
};

export type Decision =
  | { allowed: true; host: string; port: number; addresses: string[] }
  | { allowed: false; host: string; port: number; reason: EgressRefusalReason };

/** Ports a listed host without one may be reached on. */
const DEFAULT_PORTS = [80, 443];
const NAME = /^(?=.{1,253}$)[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?)*$/;

/** A host as compared: lower case, without brackets or a trailing dot; undefined when it is neither a name nor an address. */
export function normalHost(host: string): string | undefined {
  const bare = host.trim().toLowerCase().replace(/^\[(.*)\]$/, "$1").replace(/\.$/, "");
  if (parseAddress(bare)) return bare;
  return NAME.test(bare) ? bare : undefined;
}

/** `host:port` or `[v6]:port` (a CONNECT target) into its parts; undefined when malformed. */
export function parseAuthority(authority: string): { host: string; port: number } | undefined {
  const match = /^(\[[^\]]+\]|[^:[\]]+):(\d{1,5})$/.exec(authority.trim());
  if (!match) return undefined;
  return { host: match[1]!, port: Number(match[2]) };
}

/** A host entry's name and port (`*.example.com`, `ghe.example:8443`, `10.0.0.5`). */
function splitEntry(entry: string): { host: string; port?: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return { host: bracketed[1]!.toLowerCase(), ...(bracketed[2] ? { port: Number(bracketed[2]) } : {}) };
  if (parseAddress(entry)) return { host: entry.toLowerCase() }; // a bare IPv6 address: its colons are no port
  const withPort = /^(.*):(\d+)$/.exec(entry);
  return withPort ? { host: withPort[1]!.toLowerCase(), port: Number(withPort[2]) } : { host: entry.toLowerCase() };
}

/** `*.domain` matches every name under the domain (not the domain itself); anything else the name exactly. */
function hostMatches(pattern: string, host: string) {
  if (pattern.startsWith("*.")) return host.endsWith(pattern.slice(1)) && host.length > pattern.length - 1;
  return normalHost(pattern) === host;
}

export function allowedByList(rules: Pick<EgressRules, "allowHosts" | "modelHosts">, host: string, port: number): boolean {
  const listed = rules.allowHosts.some((entry) => {
    const { host: pattern, port: only } = splitEntry(entry);
    return hostMatches(pattern, host) && (only === undefined ? DEFAULT_PORTS.includes(port) : only === port);
  });
  return listed || rules.modelHosts.some((entry) => {
    const { host: model, port: only } = splitEntry(entry);
    return normalHost(model) === host && only === port;
  });
}

/** A deny entry's host: a URL's, or `host[:port]`'s (a deny covers every port). */
function deniedHost(entry: string): string | undefined {
  let host = entry.trim();
  if (host.includes("://")) {
    try {
      host = new URL(host).hostname;
    } catch {
      return undefined;
    }
  }
  return normalHost(splitEntry(host).host);
}

async function resolveAll(host: string, context: EgressContext): Promise<string[] | undefined> {
  if (parseAddress(host)) return [host];
  try {
    const found = await context.lookup(host);
    return found.length ? found : undefined;
  } catch {
    return undefined;
  }
}

/** Why one resolved address may not be reached, or undefined when it may. */
function refuseAddress(address: Address, denied: Address[], allowed: Range[], own: Address[]): EgressRefusalReason | undefined {
  // Loopback, link-local (the metadata service), multicast: never, whatever a person allows.
  if (classify(address) === "local") return "local";
  // The control plane, the engine, other nodes: never, even inside a range a person allows.
  if (isOneOf(address, denied)) return "denied";
  // An address a person allows explicitly wins over the rule for the node's own addresses, never
  // over loopback or link-local above. Why: with the local provider (or a machine whose only
  // network is private) the services a person wants their workspace to reach, a registry or a
  // model double, live on this machine's own non-loopback address; allowing that address is the
  // only way to reach them. The daemon's own API there still wants a management token, and the
  // control plane is in `denied` whatever is allowed.
  if (inAnyRange(address, allowed)) return undefined;
  if (isOneOf(address, own)) return "local";
  if (classify(address) === "private") return "private";
  return undefined;
}

/**
 * The decision for one connection. Order: `none` refuses everything; a denied name; the
 * allow-list (under `allow-list`); then the name is resolved and every address judged: a host
 * is refused when any of its addresses is (the worst reason wins), so which address the proxy
 * connects to never matters.
 */
export async function decide(target: { host: string; port: number }, rules: EgressRules, context: EgressContext): Promise<Decision> {
  const host = normalHost(target.host);
  const port = target.port;
  const shown = host ?? (target.host.slice(0, 255) || "(none)");
  const refuse = (reason: EgressRefusalReason): Decision => ({ allowed: false, host: shown, port, reason });
  if (!host || !Number.isInteger(port) || port < 1 || port > 65_535) return refuse("malformed");
  if (rules.policy === "none") return refuse("policy");
  const deniedNames = [...rules.denyHosts, ...context.alwaysDenied].flatMap((entry) => deniedHost(entry) ?? []);
  if (deniedNames.includes(host)) return refuse("denied");
  if (rules.policy === "allow-list" && !allowedByList(rules, host, port)) return refuse("policy");
  const addresses = await resolveAll(host, context);
  if (!addresses) return refuse("unresolved");
  const denied = (await Promise.all(deniedNames.map((name) => resolveAll(name, context)))).flatMap((found) => found ?? []).flatMap((a) => parseAddress(a) ?? []);
  const allowed = rules.allowPrivate.flatMap((entry) => parseRange(entry) ?? []);
  const own = context.ownAddresses().flatMap((a) => parseAddress(a) ?? []);
  const severity: EgressRefusalReason[] = ["local", "denied", "private"];
  let worst: EgressRefusalReason | undefined;
  for (const text of addresses) {
    const address = parseAddress(text);
    const reason = address ? refuseAddress(address, denied, allowed, own) : "malformed";
    if (reason && (worst === undefined || severity.indexOf(reason) < severity.indexOf(worst))) worst = reason;
  }
  return worst ? refuse(worst) : { allowed: true, host, port, addresses };
}
