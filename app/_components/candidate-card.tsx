"use client";
import Link from "next/link";
import { STEP_LABELS, type CandidateView, type PickCandidateRequest, type TaskGroupView } from "@/lib/contracts/api";
import { candidateChecksText, candidateCostText, candidateStanding, diffSizeText } from "../_lib/candidates";
import { summarySentence } from "../_lib/checks-view";
import { isTerminal } from "../_lib/format";
import { CANDIDATE_STANDING_TONE, candidateChecksTone, CI_STATE_LOOK, pillAttributes } from "../_lib/status-tone";
import { Markdown } from "./markdown";
import { PickCandidate } from "./pick-candidate";
import { StatusPill } from "./status-pill";
import styles from "./best-of-n.module.css";

/** "2 files, +12 −4" with the additions and removals in their colours. */
function DiffSize({ diff }: { diff: CandidateView["diff"] }) {
  if (!diff) return <span className="muted">{diffSizeText(diff)}</span>;
  const [files] = diffSizeText(diff).split(", ");
  return (
    <span title={diffSizeText(diff)}>
      {files}, <span className={styles.added}>+{diff.added}</span> <span className={styles.removed}>&minus;{diff.removed}</span>
    </span>
  );
}

/**
 * One candidate in the comparison: its rank and number, status, the evidence it is ranked by (checks
 * toned as on the Checks card, CI when there is some, the diff's size, the cost), the agent's closing
 * words (collapsed), a link to its own page and the pick. Picked: marked; passed over: dimmed.
 */
export function CandidateCard(props: {
  group: TaskGroupView;
  candidate: CandidateView;
  current: boolean;
  onPick: (otherBranches: NonNullable<PickCandidateRequest["otherBranches"]>) => void;
  picking: boolean;
  pickError?: string;
}) {
  const { group, candidate: c, current } = props;
  const standing = candidateStanding(group, c);
  const headingId = `candidate-${c.taskId}`;
  return (
    <li
      className={styles.card}
      aria-labelledby={headingId}
      data-standing={standing}
      data-current={current || undefined}
      data-testid="candidate"
      data-task-id={c.taskId}
      data-rank={c.rank}
      data-candidate={c.candidate}
      data-status={c.status}
    >
      <div className={styles.cardHead}>
        <span className={styles.rank} data-testid="candidate-rank" title="Its rank by the evidence">
          #{c.rank}
        </span>
        <h3 id={headingId} className={styles.cardName}>
          Candidate {c.candidate}
        </h3>
        {standing === "picked" ? (
          <span className="pill" data-tone={CANDIDATE_STANDING_TONE.picked} data-testid="candidate-picked">
            <span aria-hidden="true">✓</span> Picked
          </span>
        ) : (
          <StatusPill status={c.status} />
        )}
      </div>
      {c.executionStep && !isTerminal(c.status) && <p className={styles.step}>{STEP_LABELS[c.executionStep]}</p>}
      <div className={styles.evidence}>
        <p className={styles.verdict} data-tone={candidateChecksTone(c.checks)} data-state={c.checks?.state} data-testid="candidate-checks">
          <span className={styles.verdictDot} aria-hidden="true" />
          {candidateChecksText(c)}
        </p>
        {c.ci && (
          <p className={styles.verdict} {...pillAttributes(CI_STATE_LOOK[c.ci.state])} data-testid="candidate-ci">
            <span className={styles.verdictDot} aria-hidden="true" />
            {summarySentence(c.ci.summary)}
          </p>
        )}
      </div>
      <dl className={`facts ${styles.facts}`}>
        <dt>Diff</dt>
        <dd data-testid="candidate-diff">
          <DiffSize diff={c.diff} />
        </dd>
        <dt>Cost</dt>
        <dd data-testid="candidate-cost">{candidateCostText(c.costUsd)}</dd>
        <dt>Branch</dt>
        <dd>
          <code className={styles.branch} title={c.branch} data-testid="candidate-branch">
            {c.branch}
          </code>
        </dd>
      </dl>
      {c.error && (
        <p className={styles.error} data-testid="candidate-error">
          {c.error}
        </p>
      )}
      {c.summary && (
        <details className={styles.summary} data-testid="candidate-summary">
          <summary>Agent&apos;s summary</summary>
          <Markdown text={c.summary} />
        </details>
      )}
      <div className={styles.cardFoot}>
        {current ? (
          <span className={styles.hereNote}>You are on its page</span>
        ) : (
          <Link href={`/tasks/${c.taskId}`} className="link" data-testid="candidate-link">
            Open candidate {c.candidate} →
          </Link>
        )}
        <PickCandidate group={group} candidate={c} onPick={props.onPick} busy={props.picking} error={props.pickError} />
      </div>
    </li>
  );
}
