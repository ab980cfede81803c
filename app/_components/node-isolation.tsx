import type { NodeView } from "@/lib/contracts/api";
import styles from "./nodes.module.css";

type Report = { mode: string | null; reason: string | null };
/** What a node's daemon may say about one protection: the words and title for its good mode, and for `none`. */
type Wording = { testId: string; good: string; goodText: string; goodTitle: string; noneText: string; noneTitle: string };

/** One protection a node reported when it became ready: not yet said, in place, or not (with why). */
function NodeProtection({ report, wording }: { report: Report; wording: Wording }) {
  const data = { "data-testid": wording.testId, [`data-${wording.testId.replace("node-", "")}`]: report.mode === null ? "unknown" : report.mode };
  if (report.mode === null) {
    return (
      <span className="muted" {...data} title="Its daemon has not said yet">
        not reported yet
      </span>
    );
  }
  if (report.mode === wording.good) {
    return (
      <span {...data} title={wording.goodTitle}>
        {wording.goodText}
      </span>
    );
  }
  return (
    <span {...data} title={wording.noneTitle}>
      <span className={styles.isolationShared}>{wording.noneText}</span>
      {report.reason && <span className="muted"> ({report.reason})</span>}
    </span>
  );
}

const ISOLATION: Wording = {
  testId: "node-isolation",
  good: "users",
  goodText: "each runs as its own user",
  goodTitle: "Each workspace's setup script and agent run as their own unprivileged user",
  noneText: "share the daemon's user",
  noneTitle: "Setup scripts and agents run as the node daemon's user; team mode places no work on such a node",
};

const EGRESS: Wording = {
  testId: "node-egress",
  good: "namespaces",
  goodText: "each task's policy enforced",
  goodTitle: "Each workspace has its own network namespace whose only way out is the node's proxy, which applies the task's policy",
  noneText: "not enforced",
  noneTitle: "Workspaces reach whatever the node can; their tasks' policies are not applied",
};

/** How the node keeps its workspaces apart, as its daemon said when it became ready. */
export const NodeIsolation = ({ isolation }: { isolation: NodeView["isolation"] }) => <NodeProtection report={isolation} wording={ISOLATION} />;

/** How the node holds its workspaces to their network policy, as its daemon said when it became ready. */
export const NodeEgress = ({ egress }: { egress: NodeView["egress"] }) => <NodeProtection report={egress} wording={EGRESS} />;
