import type { NodeView } from "@/lib/contracts/api";

/** How the node holds its workspaces to their network policy, as its daemon said when it became ready. */
export function NodeEgress({ egress }: { egress: NodeView["egress"] }) {
  if (egress.mode === null) {
    return (
      <span className="muted" data-testid="node-egress" data-egress="unknown" title="Its daemon has not said yet">
        not reported yet
      </span>
    );
  }
  if (egress.mode === "namespaces") {
    return (
      <span data-testid="node-egress" data-egress="namespaces" title="Each workspace has its own network namespace whose only way out is the node's proxy, which applies the task's policy">
        each task&apos;s policy enforced
      </span>
    );
  }
  return (
    <span data-testid="node-egress" data-egress="none" title="Workspaces reach whatever the node can; their tasks' policies are not applied">
      <span className="isolation-shared">not enforced</span>
      {egress.reason && <span className="muted"> ({egress.reason})</span>}
    </span>
  );
}
