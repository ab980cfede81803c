"use client";
import { useEffect, useRef, useState } from "react";
import type { CandidateView, PickCandidateRequest, TaskGroupView } from "@/lib/contracts/api";
import { canPick, pickBlocker } from "../_lib/candidates";
import { summarySentence } from "../_lib/checks-view";
import { SegmentedControl } from "./segmented-control";
import styles from "./best-of-n.module.css";

type OtherBranches = NonNullable<PickCandidateRequest["otherBranches"]>;

const BRANCH_OPTIONS = [
  { value: "keep", label: "Keep", title: "The other candidates' branches stay in the repository" },
  { value: "delete", label: "Delete", title: "The other candidates' branches are deleted" },
] as const satisfies readonly { value: OtherBranches; label: string; title: string }[];

/**
 * "Pick this one", then a confirm step: what becomes of the other branches (kept unless the person
 * says delete) and the pick itself. Disabled, saying why, until the candidate completed with a
 * commit. `error`: the server's refusal of this candidate's pick (a 409 or 422), shown here.
 */
export function PickCandidate(props: {
  group: TaskGroupView;
  candidate: CandidateView;
  onPick: (otherBranches: OtherBranches) => void;
  busy: boolean;
  error?: string;
}) {
  const { group, candidate } = props;
  const [confirming, setConfirming] = useState(false);
  const [otherBranches, setOtherBranches] = useState<OtherBranches>("keep");
  const back = useRef<HTMLButtonElement>(null);
  const blocker = pickBlocker(group, candidate);
  const enabled = canPick(group, candidate);
  const noteId = `pick-note-${candidate.taskId}`;

  useEffect(() => {
    if (confirming) back.current?.focus();
  }, [confirming]);

  const error = props.error && (
    <p className="field-error" role="alert" data-testid="candidate-pick-error">
      {summarySentence(props.error)}
    </p>
  );
  if (group.pickedTaskId !== null) return error || null;

  if (!confirming || !enabled) {
    return (
      <div className={styles.pick}>
        <button
          type="button"
          className={`button small${candidate.rank === 1 ? " primary" : ""}`}
          disabled={!enabled}
          aria-describedby={blocker ? noteId : undefined}
          onClick={() => setConfirming(true)}
          data-testid="candidate-pick"
        >
          Pick this one
        </button>
        {blocker && (
          <span id={noteId} className={styles.pickNote}>
            {blocker}
          </span>
        )}
        {error}
      </div>
    );
  }

  const others = group.size - 1;
  return (
    <div
      className={styles.confirm}
      role="group"
      aria-labelledby={`pick-question-${candidate.taskId}`}
      onKeyDown={(e) => {
        if (e.key === "Escape" && !props.busy) setConfirming(false);
      }}
      data-testid="candidate-pick-confirm"
    >
      <p id={`pick-question-${candidate.taskId}`} className={styles.confirmQuestion}>
        <strong>Pick candidate {candidate.candidate}?</strong> It gets the task&apos;s pull request; {others === 1 ? "the other, if still working, is" : "the others still working are"} cancelled.
      </p>
      <SegmentedControl
        legend={others === 1 ? "The other branch" : "The other branches"}
        name={`other-branches-${candidate.taskId}`}
        options={BRANCH_OPTIONS}
        value={otherBranches}
        onChange={setOtherBranches}
        disabled={props.busy}
        size="small"
        testId="candidate-pick-branches"
      />
      {error}
      <div className={styles.confirmActions}>
        <button type="button" ref={back} className="button small" onClick={() => setConfirming(false)} disabled={props.busy}>
          Back
        </button>
        <button
          type="button"
          className="button primary small"
          onClick={() => props.onPick(otherBranches)}
          disabled={props.busy}
          aria-busy={props.busy}
          data-testid="candidate-pick-confirm-button"
        >
          {props.busy ? "Picking…" : `Pick candidate ${candidate.candidate}`}
        </button>
      </div>
    </div>
  );
}
