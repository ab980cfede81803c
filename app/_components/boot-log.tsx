import type { BootLogView } from "@/lib/contracts/api";
import { formatDuration } from "../_lib/format";
import { LiveDuration } from "./live-duration";
import { StepIcon } from "./step-timeline";
import styles from "./timeline.module.css";
import { STEP_STATUS_TONE } from "../_lib/status-tone";

const STAGE_LABELS: Record<string, string> = {
  "workspace-user": "Workspace user",
  clone: "Clone",
  branch: "Branch checkout",
  "git-identity": "Git identity",
  "git-credentials": "Git credentials",
  handover: "Hand-over to the workspace user",
  network: "Network",
  setup: "Setup",
  ready: "Ready",
  environment: "Agent environment and start",
};

/** The workspace's provisioning on its node, stage by stage with durations, and the setup script's output, live. */
export function BootLog({ boot, live }: { boot: BootLogView; live: boolean }) {
  if (!boot.stages.length && !boot.setupOutput.length) return null;
  const setup = boot.stages.findLast((s) => s.stage === "setup");
  return (
    <div className={styles.bootLog} data-testid="boot-log">
      <h3>On the node</h3>
      <ol className={styles.timeline}>
        {boot.stages.map((stage) => (
          <li key={`${stage.stage}@${stage.startedAt}`} className={styles.step} data-tone={STEP_STATUS_TONE[stage.status]} data-testid={`boot-stage-${stage.stage}`} data-status={stage.status}>
            <StepIcon status={stage.status} />
            <div className={styles.stepBody}>
              <span className={styles.stepLabel}>{STAGE_LABELS[stage.stage] ?? stage.stage}</span>
              {stage.detail && <span className={styles.stepDetail}>{stage.detail}</span>}
            </div>
            <span className={styles.stepDuration}>
              {stage.durationMs !== null ? formatDuration(stage.durationMs) : live ? <LiveDuration startedAt={stage.startedAt} /> : null}
            </span>
          </li>
        ))}
      </ol>
      {boot.setupOutput.length > 0 && (
        <details className={styles.setupOutput} open={setup?.status !== "succeeded"}>
          <summary>
            Setup output · {boot.setupOutput.length} {boot.setupOutput.length === 1 ? "line" : "lines"}
            {boot.setupOutputTruncated && " (the newest)"}
          </summary>
          <pre data-testid="setup-output">{boot.setupOutput.join("\n")}</pre>
        </details>
      )}
    </div>
  );
}
