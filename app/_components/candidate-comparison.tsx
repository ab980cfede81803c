"use client";
import type { TaskDetail } from "@/lib/contracts/api";
import { pickOutcomeText } from "../_lib/candidates";
import { absoluteTime } from "../_lib/format";
import { usePickCandidate } from "../_lib/queries";
import { CANDIDATE_STANDING_TONE } from "../_lib/status-tone";
import { CandidateCard } from "./candidate-card";
import styles from "./best-of-n.module.css";

/**
 * Best of N at the top of any candidate's page: every candidate side by side in rank order (best by
 * the evidence first), live with the page, each with its pick. Once one is picked, it is marked, the
 * others dimmed, and the section says what became of their branches.
 */
export function CandidateComparison({ task }: { task: TaskDetail }) {
  const { group } = task;
  const pick = usePickCandidate(task.id);
  if (!group) return null;
  const outcome = pickOutcomeText(group);
  const tried = pick.variables?.taskId;
  return (
    <section className={`card ${styles.comparison}`} aria-labelledby="best-of-heading" data-testid="best-of" data-picked={group.pickedTaskId ?? undefined}>
      <h2 id="best-of-heading">Best of {group.size}</h2>
      {outcome ? (
        <p className={styles.outcome} data-tone={CANDIDATE_STANDING_TONE.picked} role="status" data-testid="best-of-outcome">
          <span className={styles.outcomeIcon} aria-hidden="true">
            ✓
          </span>
          <span>
            {outcome}
            {group.pickedAt && (
              <time className={styles.outcomeTime} dateTime={group.pickedAt}>
                {" "}
                Picked {absoluteTime(group.pickedAt)}.
              </time>
            )}
          </span>
        </p>
      ) : (
        <p className="section-lead muted">
          {group.size} agents work on this side by side, each on its own branch from the same base. Ranked by the evidence: checks passed first, then CI, then the smaller diff, then the lower cost. Pick one for the pull request.
        </p>
      )}
      <ol className={styles.grid}>
        {group.candidates.map((candidate) => (
          <CandidateCard
            key={candidate.taskId}
            group={group}
            candidate={candidate}
            current={candidate.taskId === task.id}
            onPick={(otherBranches) => pick.mutate({ taskId: candidate.taskId, otherBranches })}
            picking={pick.isPending && tried === candidate.taskId}
            pickError={tried === candidate.taskId && pick.error ? pick.error.message : undefined}
          />
        ))}
      </ol>
    </section>
  );
}
