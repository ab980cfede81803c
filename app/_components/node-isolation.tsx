import type { NodeView } from "@/lib/contracts/api";

/** How the node keeps its workspaces apart, as its daemon said when it became ready. */
export function NodeIsolation({ isolation }: { isolation: NodeView["isolation"] }) {
  if (isolation.mode === null) {
    return (
      <span className="muted" data-testid="node-isolation" data-isolation="unknown" title="Its daemon has not said yet">
        not reported yet
      </span>
    );
  }
  if (isolation.mode === "users") {
    return (
      <span data-testid="node-isolation" data-isolation="users" title="Each workspace's setup script and agent run as their own unprivileged user">
        each runs as its own user
      </span>
    );
  }
  return (
    <span data-testid="node-isolation" data-isolation="none" title="Setup scripts and agents run as the node daemon's user; team mode places no work on such a node">
      <span className="isolation-shared">share the daemon&apos;s user</span>
      {isolation.reason && <span className="muted"> ({isolation.reason})</span>}
    </span>
  );
}
