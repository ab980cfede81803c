/** Words for a workspace's egress: its policies, the proxy's refusals, and the settings form's lines. */
import type { TaskNetworkView } from "@/lib/contracts/api";
import type { EgressPolicy, EgressRefusalReason } from "@/lib/contracts/egress";

/** Each policy's name and what it lets out, in one line. */
export const EGRESS_POLICIES: Record<EgressPolicy, { label: string; explanation: string }> = {
  none: { label: "None", explanation: "Nothing goes out." },
  "allow-list": { label: "Allow-list", explanation: "The repository's host, the agent's model API and the allowed hosts." },
  full: { label: "Full", explanation: "Any public host; never this machine, the control plane, cloud metadata or private ranges." },
};

/** The policies in the order a person chooses among them: the safe default first. */
export const POLICY_ORDER: readonly EgressPolicy[] = ["allow-list", "none", "full"];

/** What a new task's chosen policy lets out, in one line: the person's default when it asks for none. */
export function egressHint(chosen: EgressPolicy | "", defaultPolicy: EgressPolicy | undefined): string {
  const policy = chosen || defaultPolicy;
  if (!policy) return "Your default policy, from Settings → Network.";
  const { label, explanation } = EGRESS_POLICIES[policy];
  return chosen ? explanation : `${label}, your default: ${explanation.charAt(0).toLowerCase()}${explanation.slice(1)}`;
}

/** Why the proxy refused a connection, in words; a policy refusal reads by the policy that made it. */
export function refusalReasonText(reason: EgressRefusalReason, policy: EgressPolicy | null): string {
  switch (reason) {
    case "policy":
      return policy === "allow-list" ? "not on the allow-list" : policy === "none" ? "the policy lets nothing out" : "not allowed";
    case "local":
      return "this machine or cloud metadata";
    case "private":
      return "a private address";
    case "denied":
      return "the control plane, engine or a node";
    case "unresolved":
      return "the name does not resolve";
    case "malformed":
      return "not a request the proxy forwards";
  }
}

/** "host:port", an IPv6 address in brackets ("[fd00::1]:443"). */
export const hostPort = (host: string, port: number) => `${host.includes(":") ? `[${host}]` : host}:${port}`;

/** "blocked: registry.npmjs.org:443, 3 times" ("1 time" for one). */
export const refusalSummary = ({ host, port, count }: Pick<TaskNetworkView["refusals"][number], "host" | "port" | "count">) =>
  `blocked: ${hostPort(host, port)}, ${count} ${count === 1 ? "time" : "times"}`;

/** How many connections were refused in all. */
export const refusedConnections = (refusals: TaskNetworkView["refusals"]) => refusals.reduce((sum, refusal) => sum + refusal.count, 0);

/** A textarea's entries: one per line, trimmed, blank lines dropped. */
export const lines = (text: string) =>
  text
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean);

/** The settings' list fields, as the API names them. */
export type NetworkListField = "allowHosts" | "allowPrivate";

/**
 * Where an API error about the settings belongs: `allowHosts.2` is the allowed hosts field, its
 * entry at index 2 (the third non-blank line); `defaultPolicy` the policy. Undefined for anything else.
 */
export function networkErrorField(field: string | undefined): { field: NetworkListField | "defaultPolicy"; index?: number } | undefined {
  const match = /^(allowHosts|allowPrivate|defaultPolicy)(?:\.(\d+))?$/.exec(field ?? "");
  if (!match) return undefined;
  const name = match[1] as NetworkListField | "defaultPolicy";
  return match[2] === undefined ? { field: name } : { field: name, index: Number(match[2]) };
}

/**
 * The API's message for an entry, said of what the person typed: "allowHosts.1 must be a host
 * name…" about "bad host" reads "“bad host” must be a host name…".
 */
export function entryErrorText(message: string, field: string, entry: string | undefined): string {
  const rest = message.startsWith(`${field} `) ? message.slice(field.length + 1) : message;
  return entry === undefined ? rest : `“${entry}” ${rest}`;
}
