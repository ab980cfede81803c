/**
 * A workspace's way out to the network, one source for both sides. Each workspace's processes run
 * in their own network namespace whose only way out is the vm-agent's proxy (HTTP CONNECT and plain
 * HTTP); the proxy applies the workspace's policy and records every refusal, which the daemon
 * reports to the control plane for the task page.
 *
 * - `none`: nothing goes out.
 * - `allow-list`: only the hosts listed (the repository's forge, the registries a person lists)
 *   and the model API of the session's agent (the node adds it from its own configuration).
 * - `full`: any public host.
 *
 * Whatever the policy, the proxy never connects to loopback, the node's own addresses, link-local
 * addresses (the cloud metadata address 169.254.169.254 among them), the hosts in `denyHosts`
 * (the control plane, the engine, other nodes) or private ranges, unless a person allows a private
 * address or range in `allowPrivate` (loopback and link-local can never be allowed).
 */
import { z } from "zod";

export const EgressPolicy = z.enum(["none", "allow-list", "full"]);
export type EgressPolicy = z.infer<typeof EgressPolicy>;
export const DEFAULT_EGRESS_POLICY: EgressPolicy = "allow-list";

const LABEL = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?";
/**
 * A host a workspace may reach: a name (`registry.npmjs.org`), every name under a domain
 * (`*.pythonhosted.org`, which does not match the domain itself), optionally with a port
 * (`ghe.example:8443`); without a port, 80 and 443.
 */
export const EgressHost = z
  .string()
  .max(255)
  .regex(new RegExp(`^(?:\\*\\.)?${LABEL}(?:\\.${LABEL})*(?::\\d{1,5})?$`), "must be a host name, *.domain, optionally with :port")
  .transform((value) => value.toLowerCase());
export type EgressHost = z.infer<typeof EgressHost>;

const IPV4 = "(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)(?:\\.(?:25[0-5]|2[0-4]\\d|1?\\d?\\d)){3}";
/** A private address or range a person allows (`10.0.0.5`, `10.1.0.0/16`, `fd00::/8`); loopback and link-local are refused by the proxy whatever this says. */
export const EgressPrivateRange = z
  .string()
  .max(64)
  .refine((value) => new RegExp(`^${IPV4}(?:/(?:3[0-2]|[12]?\\d))?$`).test(value) || /^[0-9A-Fa-f:]{2,39}(?:\/(?:12[0-8]|1[01]\d|\d?\d))?$/.test(value), "must be an IPv4 or IPv6 address, optionally /prefix");
export type EgressPrivateRange = z.infer<typeof EgressPrivateRange>;

/** What the control plane asks of a workspace's egress (CreateWorkspaceRequest.egress). */
export const WorkspaceEgress = z.object({
  policy: EgressPolicy,
  /** allow-list: the hosts besides the agent's model API. Ignored by `none` and `full`. */
  allowHosts: z.array(EgressHost).max(200).default([]),
  /** Private addresses or ranges the person allows under any policy but `none`. */
  allowPrivate: z.array(EgressPrivateRange).max(50).default([]),
  /** Hosts never reachable whatever the policy: the control plane's, the engine's, other nodes'. */
  denyHosts: z.array(z.string().min(1).max(255)).max(200).default([]),
});
export type WorkspaceEgress = z.infer<typeof WorkspaceEgress>;

/** Why the proxy refused a connection. */
export const EgressRefusalReason = z.enum([
  /** The policy does not allow the host (`none`, or not on the allow-list). */
  "policy",
  /** A loopback, link-local (metadata) or this node's own address: never reachable. */
  "local",
  /** A private address no one allowed. */
  "private",
  /** A host in `denyHosts`: the control plane, the engine, a node. */
  "denied",
  /** The name did not resolve. */
  "unresolved",
  /** Not a request the proxy forwards (a malformed request, an unsupported method or port). */
  "malformed",
]);
export type EgressRefusalReason = z.infer<typeof EgressRefusalReason>;

/** Refusals of one host, port and reason since the last report. */
export const EgressRefusal = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(0).max(65_535),
  reason: EgressRefusalReason,
  count: z.number().int().min(1),
  lastAt: z.string().datetime(),
});
export type EgressRefusal = z.infer<typeof EgressRefusal>;

/**
 * `POST /api/workspaces/{id}/egress-refusals` (workspace callback token): the refusals since the
 * last report, counted per host, port and reason. The control plane adds the counts up.
 */
export const EgressRefusalsCallback = z.object({
  messageId: z.string().regex(/^[\w.:-]{1,128}$/, "must be 1-128 letters, digits, _ . : or -"),
  refusals: z.array(EgressRefusal).min(1).max(500),
});
export type EgressRefusalsCallback = z.infer<typeof EgressRefusalsCallback>;

/**
 * How a node enforces egress (in its isolation report). `namespaces`: every workspace has its own
 * network namespace behind the proxy. `none`: the node cannot (`reason` says why) and runs
 * workspaces only when its configuration allows it (WORKSPACE_EGRESS=off).
 */
export const EgressEnforcement = z.object({
  mode: z.enum(["namespaces", "none"]),
  reason: z.string().max(500).optional(),
});
export type EgressEnforcement = z.infer<typeof EgressEnforcement>;
