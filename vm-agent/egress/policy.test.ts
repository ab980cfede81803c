/** The egress decision table: what a workspace may reach under each policy, and what it never may. */
import dns from "node:dns/promises";
import { describe, expect, it } from "vitest";
import { classify, parseAddress } from "./addresses";
import { decide, type EgressContext, type EgressRules } from "./policy";

/** A resolver of fixed answers; any other name does not resolve. */
const names: Record<string, string[]> = {
  "registry.npmjs.org": ["104.16.0.1"],
  "files.pythonhosted.org": ["151.101.0.223"],
  "api.anthropic.com": ["160.79.104.10"],
  "rebind.example": ["93.184.216.34", "127.0.0.1"],
  "meta.example": ["169.254.169.254"],
  "intranet.example": ["10.1.2.3"],
  "mapped.example": ["::ffff:127.0.0.1"],
  "v6.example": ["2606:4700::1"],
  "control.example": ["203.0.113.7"],
  "control-alias.example": ["203.0.113.7"],
  "node.example": ["198.51.100.20"],
};
const context = (extra: Partial<EgressContext> = {}): EgressContext => ({
  lookup: async (host) => {
    const found = names[host];
    if (!found) throw new Error(`ENOTFOUND ${host}`);
    return found;
  },
  ownAddresses: () => ["127.0.0.1", "192.0.2.2", "fd00::2", "fe80::fc:ff:fe00:1"],
  alwaysDenied: [],
  ...extra,
});
const rules = (extra: Partial<EgressRules> = {}): EgressRules => ({ policy: "allow-list", allowHosts: [], allowPrivate: [], denyHosts: [], modelHosts: [], ...extra });
const outcome = async (host: string, port: number, r: EgressRules, c = context()) => {
  const decision = await decide({ host, port }, r, c);
  return decision.allowed ? "allowed" : decision.reason;
};

describe("the egress decision", () => {
  it("refuses everything under `none`, even a listed host", async () => {
    expect(await outcome("registry.npmjs.org", 443, rules({ policy: "none", allowHosts: ["registry.npmjs.org"] }))).toBe("policy");
  });

  it("admits under `allow-list` exactly the listed names, `*.domain` below the domain, on 80 and 443 unless a port is named", async () => {
    const r = rules({ allowHosts: ["registry.npmjs.org", "*.pythonhosted.org", "ghe.example:8443"] });
    expect(await outcome("registry.npmjs.org", 443, r)).toBe("allowed");
    expect(await outcome("registry.npmjs.org", 80, r)).toBe("allowed");
    expect(await outcome("registry.npmjs.org", 22, r)).toBe("policy");
    expect(await outcome("files.pythonhosted.org", 443, r)).toBe("allowed");
    expect(await outcome("pythonhosted.org", 443, r)).toBe("policy");
    expect(await outcome("evilpythonhosted.org", 443, r)).toBe("policy");
    expect(await outcome("npmjs.org", 443, r)).toBe("policy");
    expect(await outcome("ghe.example", 443, r)).toBe("policy");
    // Listed, allowed by the policy, but not resolvable.
    expect(await outcome("ghe.example", 8443, r)).toBe("unresolved");
  });

  it("compares names without regard to case or a trailing dot", async () => {
    const r = rules({ allowHosts: ["Registry.NPMJS.org"] });
    expect(await outcome("REGISTRY.npmjs.ORG.", 443, r)).toBe("allowed");
  });

  it("admits the agent's model API on its own port only", async () => {
    const r = rules({ modelHosts: ["api.anthropic.com:443"] });
    expect(await outcome("api.anthropic.com", 443, r)).toBe("allowed");
    expect(await outcome("api.anthropic.com", 80, r)).toBe("policy");
  });

  it("admits any public host on any port under `full`", async () => {
    expect(await outcome("registry.npmjs.org", 9418, rules({ policy: "full" }))).toBe("allowed");
    expect(await outcome("v6.example", 443, rules({ policy: "full" }))).toBe("allowed");
    expect(await outcome("93.184.216.34", 443, rules({ policy: "full" }))).toBe("allowed");
  });

  it.each([
    ["127.0.0.1", "loopback"],
    ["127.8.9.10", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["169.254.169.254", "the metadata service"],
    ["224.0.0.1", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["::1", "IPv6 loopback"],
    ["[::1]", "IPv6 loopback in brackets"],
    ["::", "IPv6 unspecified"],
    ["fe80::1", "IPv6 link-local"],
    ["ff02::1", "IPv6 multicast"],
    ["::ffff:127.0.0.1", "loopback mapped to IPv6"],
    ["::ffff:169.254.169.254", "metadata mapped to IPv6"],
    ["64:ff9b::a9fe:a9fe", "metadata through NAT64"],
    ["localhost", "a name for loopback"],
    ["meta.example", "a name for the metadata service"],
    ["mapped.example", "a name for mapped loopback"],
    ["rebind.example", "a name with one public and one loopback address"],
  ])("never reaches %s (%s), whatever is allowed", async (host) => {
    const everything = rules({ policy: "full", allowPrivate: ["127.0.0.0/8", "169.254.0.0/16", "::1", "fe80::/10", "0.0.0.0/0", "::/0"] });
    const c = context({ lookup: async (name) => (name === "localhost" ? (await dns.lookup("localhost", { all: true })).map((a) => a.address) : context().lookup(name)) });
    expect(await outcome(host, 443, everything, c)).toBe("local");
  });

  it.each(["10.1.2.3", "172.16.0.1", "172.31.255.255", "192.168.1.1", "100.64.0.1", "192.0.0.8", "198.18.0.1", "203.0.113.9", "fd12::1", "intranet.example"])(
    "refuses the private address %s unless a person allows it",
    async (host) => {
      expect(await outcome(host, 443, rules({ policy: "full" }))).toBe("private");
    },
  );

  it("reaches a private address or range a person allows, not its neighbours", async () => {
    const r = rules({ policy: "full", allowPrivate: ["10.1.0.0/16", "fd12::1"] });
    expect(await outcome("10.1.2.3", 443, r)).toBe("allowed");
    expect(await outcome("intranet.example", 443, r)).toBe("allowed");
    expect(await outcome("10.2.0.1", 443, r)).toBe("private");
    expect(await outcome("fd12::1", 443, r)).toBe("allowed");
    expect(await outcome("fd12::2", 443, r)).toBe("private");
    // allowPrivate widens what addresses may be reached, never which names the allow-list admits.
    expect(await outcome("10.1.2.3", 443, rules({ allowPrivate: ["10.1.0.0/16"] }))).toBe("policy");
  });

  it("refuses the node's own addresses, unless a person allows that very address (never its loopback)", async () => {
    expect(await outcome("192.0.2.2", 80, rules({ policy: "full" }))).toBe("local");
    expect(await outcome("fd00::2", 80, rules({ policy: "full" }))).toBe("local");
    expect(await outcome("192.0.2.2", 80, rules({ policy: "full", allowPrivate: ["192.0.2.2"] }))).toBe("allowed");
    expect(await outcome("fd00::2", 80, rules({ policy: "full", allowPrivate: ["192.0.2.2"] }))).toBe("local");
  });

  it("refuses denied hosts by name and by address, the control plane always, even inside an allowed range", async () => {
    const r = rules({ policy: "full", denyHosts: ["https://node.example:8443", "control-alias.example"], allowPrivate: ["203.0.113.0/24", "198.51.100.0/24"] });
    const c = context({ alwaysDenied: ["control.example"] });
    expect(await outcome("node.example", 443, r, c)).toBe("denied");
    expect(await outcome("198.51.100.20", 443, r, c)).toBe("denied");
    expect(await outcome("CONTROL.example", 443, r, c)).toBe("denied");
    expect(await outcome("203.0.113.7", 443, r, c)).toBe("denied");
    expect(await outcome("203.0.113.8", 443, r, c)).toBe("allowed");
    // A name denied outright is refused before the allow-list is asked.
    expect(await outcome("control.example", 443, rules({ allowHosts: ["control.example"] }), c)).toBe("denied");
  });

  it("refuses malformed targets and ports", async () => {
    for (const [host, port] of [["", 443], ["a b", 443], ["exa mple.com", 80], ["example.com", 0], ["example.com", 70_000], ["-bad-.com", 443]] as const) {
      expect(await outcome(host, port, rules({ policy: "full" }))).toBe("malformed");
    }
  });

  it("connects to the addresses it checked", async () => {
    const decision = await decide({ host: "registry.npmjs.org", port: 443 }, rules({ allowHosts: ["registry.npmjs.org"] }), context());
    expect(decision).toEqual({ allowed: true, host: "registry.npmjs.org", port: 443, addresses: ["104.16.0.1"] });
  });
});

describe("address classes", () => {
  it.each([
    ["8.8.8.8", "public"],
    ["2606:4700::1", "public"],
    ["::ffff:8.8.8.8", "public"],
    ["2002:7f00:1::", "local"],
    ["::ffff:10.0.0.1", "private"],
    ["100.63.255.255", "public"],
    ["100.128.0.0", "public"],
    ["172.32.0.1", "public"],
  ])("%s is %s", (text, expected) => {
    expect(classify(parseAddress(text)!)).toBe(expected);
  });
});
