import type { CiCheck } from "@/lib/contracts/ci";
import { CI_CHECK_KIND_LABEL, ciCheckLink, ciCheckOutcome } from "../_lib/ci-view";
import { CI_CHECK_TONE } from "../_lib/status-tone";
import styles from "./ci.module.css";

const ICON: Record<Exclude<CiCheck["state"], "pending">, string> = { passed: "✓", failed: "✕" };

/** One check run or commit status of the pull request's CI: its name and kind, what it said about itself, how it stands, and its page. */
export function CiCheckRow({ check }: { check: CiCheck }) {
  const link = ciCheckLink(check.url);
  return (
    <li className={styles.check} data-tone={CI_CHECK_TONE[check.state]} data-testid="ci-check" data-state={check.state} data-kind={check.kind}>
      <span className={styles.icon} aria-hidden="true">
        {check.state === "pending" ? <span className={styles.spinner} /> : ICON[check.state]}
      </span>
      <div className={styles.checkMain}>
        <p className={styles.checkHead}>
          <span className={styles.checkName} data-testid="ci-check-name">
            {check.name}
          </span>
          <span className={styles.checkKind}>{CI_CHECK_KIND_LABEL[check.kind]}</span>
        </p>
        {check.summary && (
          <p className={styles.checkSummary} title={check.summary} data-testid="ci-check-summary">
            {check.summary}
          </p>
        )}
      </div>
      <span className={styles.checkResult}>
        <span className={styles.checkOutcome} data-testid="ci-check-outcome">
          {ciCheckOutcome(check)}
        </span>
        {link && (
          <a className={styles.checkLink} href={link} target="_blank" rel="noopener noreferrer" data-testid="ci-check-link">
            Details<span className="sr-only"> of {check.name} (opens in a new tab)</span>
            <span aria-hidden="true"> ↗</span>
          </a>
        )}
      </span>
    </li>
  );
}
