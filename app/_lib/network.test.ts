import { describe, expect, it } from "vitest";
import { EgressRefusalReason } from "@/lib/contracts/egress";
import { egressHint, entryErrorText, hostPort, lines, networkErrorField, refusalReasonText, refusalSummary, refusedConnections } from "./network";

describe("refusalSummary", () => {
  it("says host:port and how many times, one time in the singular", () => {
    expect(refusalSummary({ host: "registry.npmjs.org", port: 443, count: 3 })).toBe("blocked: registry.npmjs.org:443, 3 times");
    expect(refusalSummary({ host: "example.com", port: 80, count: 1 })).toBe("blocked: example.com:80, 1 time");
  });

  it("puts an IPv6 address in brackets so its port stands apart", () => {
    expect(hostPort("fd00::1", 443)).toBe("[fd00::1]:443");
    expect(hostPort("10.0.0.5", 5432)).toBe("10.0.0.5:5432");
    expect(refusalSummary({ host: "::1", port: 22, count: 2 })).toBe("blocked: [::1]:22, 2 times");
  });
});

describe("refusalReasonText", () => {
  it("reads a policy refusal by the policy that made it", () => {
    expect(refusalReasonText("policy", "allow-list")).toBe("not on the allow-list");
    expect(refusalReasonText("policy", "none")).toBe("the policy lets nothing out");
    expect(refusalReasonText("policy", "full")).toBe("not allowed");
    expect(refusalReasonText("policy", null)).toBe("not allowed");
  });

  it("has words for every reason, each its own", () => {
    const texts = EgressRefusalReason.options.filter((reason) => reason !== "policy").map((reason) => refusalReasonText(reason, "allow-list"));
    expect(texts).toEqual(["this machine or cloud metadata", "a private address", "the control plane, engine or a node", "the name does not resolve", "not a request the proxy forwards"]);
  });
});

describe("refusedConnections", () => {
  it("adds up the counts", () => {
    const at = "2026-11-23T12:00:00Z";
    expect(refusedConnections([])).toBe(0);
    expect(refusedConnections([{ host: "a.example", port: 443, reason: "policy", count: 2, lastAt: at }, { host: "b.example", port: 80, reason: "unresolved", count: 5, lastAt: at }])).toBe(7);
  });
});

describe("lines", () => {
  it("takes one entry a line, trimmed, without blank lines", () => {
    expect(lines("registry.npmjs.org\n\n  *.pythonhosted.org  \r\n\t\nghe.example:8443\n")).toEqual(["registry.npmjs.org", "*.pythonhosted.org", "ghe.example:8443"]);
    expect(lines("")).toEqual([]);
    expect(lines(" \n ")).toEqual([]);
  });
});

describe("networkErrorField", () => {
  it("finds the field and the entry an API error names", () => {
    expect(networkErrorField("allowHosts.2")).toEqual({ field: "allowHosts", index: 2 });
    expect(networkErrorField("allowPrivate.0")).toEqual({ field: "allowPrivate", index: 0 });
    expect(networkErrorField("allowHosts")).toEqual({ field: "allowHosts" });
    expect(networkErrorField("defaultPolicy")).toEqual({ field: "defaultPolicy" });
  });

  it("leaves anything else to the form's banner", () => {
    expect(networkErrorField(undefined)).toBeUndefined();
    expect(networkErrorField("body")).toBeUndefined();
    expect(networkErrorField("allowHostsX.1")).toBeUndefined();
    expect(networkErrorField("allowHosts.x")).toBeUndefined();
  });
});

describe("entryErrorText", () => {
  it("says the API's complaint of what the person typed", () => {
    expect(entryErrorText("allowHosts.1 must be a host name, *.domain, optionally with :port", "allowHosts.1", "not a host")).toBe("“not a host” must be a host name, *.domain, optionally with :port");
    expect(entryErrorText("allowHosts Too big: expected array to have <=200 items", "allowHosts", undefined)).toBe("Too big: expected array to have <=200 items");
    expect(entryErrorText("something else entirely", "allowHosts.0", "x")).toBe("“x” something else entirely");
  });
});

describe("egressHint", () => {
  it("explains the chosen policy, or the person's default when none is chosen", () => {
    expect(egressHint("none", "allow-list")).toBe("Nothing goes out.");
    expect(egressHint("", "allow-list")).toBe("Allow-list, your default: the repository's host, the agent's model API and the allowed hosts.");
    expect(egressHint("", undefined)).toBe("Your default policy, from Settings → Network.");
    expect(egressHint("full", undefined)).toMatch(/^Any public host; never this machine/);
  });
});
