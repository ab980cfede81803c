/**
 * How our nodes are named and labelled in a Hetzner Cloud project, so a step that runs again finds
 * what an earlier run created: the server is named after the node (names are unique in a project)
 * and labelled with its node, owner and task; the firewall is named and labelled after its rules.
 */
import { createHash } from "node:crypto";

export const NODE_LABEL = "acp-node";
export const OWNER_LABEL = "acp-owner";
export const TASK_LABEL = "acp-task";
export const FIREWALL_LABEL = "acp-firewall";

/**
 * A valid label value (the API: at most 63 characters, alphanumerics with `-`, `_`, `.` between,
 * beginning and ending alphanumeric); other characters become `-`.
 */
export function labelValue(text: string): string {
  return text
    .replace(/[^a-zA-Z0-9_.-]/g, "-")
    .slice(0, 63)
    .replace(/^[^a-zA-Z0-9]+|[^a-zA-Z0-9]+$/g, "");
}

/** The node's server name: a valid hostname (no `_`), unique per node. */
export function serverName(nodeId: string): string {
  return `acp-${nodeId.toLowerCase().replace(/[^a-z0-9-]/g, "-")}`.slice(0, 63).replace(/-+$/, "");
}

export const nodeSelector = (nodeId: string) => `${NODE_LABEL}=${labelValue(nodeId)}`;

/** The firewall's identity follows its rules: other sources or another port make another firewall, never an edit of one in use. */
export function firewallIdentity(port: number, sources: readonly string[]) {
  const fingerprint = createHash("sha256")
    .update(JSON.stringify({ port, sources: [...sources].sort() }))
    .digest("hex")
    .slice(0, 12);
  return { name: `acp-vm-agent-${fingerprint}`, fingerprint };
}
