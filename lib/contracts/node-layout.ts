/**
 * Names a node's daemon and the control plane both use, defined once: the folders of the daemon's
 * work folder (the local provider and the runner read a local node's there), its tmux socket (which
 * destroying a local node ends), and the host name a workspace's processes reach the daemon at
 * through their egress proxy. Its TLS files are lib/contracts/tls.ts's.
 */
import path from "node:path";

/** Where the daemon keeps what, under its work folder (VM_AGENT_WORK_DIR). */
export function nodeWorkDirLayout(workDir: string) {
  const root = path.resolve(workDir);
  const state = path.join(root, "state");
  return {
    root,
    /** One folder per workspace: `workspaces/<id>/` (its worktree, HOME, agents' logs). */
    workspaces: path.join(root, "workspaces"),
    /** The daemon's own records (one JSON file each), its owner's only. */
    state,
    /** The workspaces' records: which workspaces the node holds. */
    workspaceRecords: path.join(state, "workspaces"),
    /** Callbacks waiting to be delivered. */
    outbox: path.join(root, "outbox"),
    /** Where the credential helpers find the daemon (its address and certificate). */
    daemonEndpoint: path.join(root, "daemon-endpoint"),
  };
}

/** The tmux socket (`tmux -L`) a node's daemon runs its agents on, unless its TMUX_SOCKET names another. */
export const defaultTmuxSocket = (nodeId: string) => `acp-${nodeId}`;

/**
 * The host name a workspace's processes reach their daemon at, through their egress proxy: never a
 * real host, never resolved (`.internal` is reserved for private use).
 */
export const DAEMON_INTERNAL_HOST = "acp-vm-agent.internal";
