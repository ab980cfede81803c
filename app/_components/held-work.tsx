"use client";
import { useRef, useState } from "react";
import type { TaskDetail } from "@/lib/contracts/api";
import { absoluteTime, shortId } from "../_lib/format";
import { useDiscardHeldWork, usePushHeldWork } from "../_lib/queries";
import { ConfirmActions } from "./confirm-actions";
import { ErrorBanner } from "./error-banner";
import styles from "./held-work.module.css";

/**
 * Work whose push was refused, kept on its node until the person decides: push it again (after
 * fixing what refused it) or discard it (asked twice: it is the only copy).
 */
export function HeldWork({ task }: { task: TaskDetail }) {
  const push = usePushHeldWork(task.id);
  const discard = useDiscardHeldWork(task.id);
  const [confirming, setConfirming] = useState(false);
  const keepRef = useRef<HTMLButtonElement>(null);
  const held = task.heldWork;
  if (!held) return null;
  const refusedAgain = push.data && !push.data.pushed ? push.data.error : undefined;
  const busy = push.isPending || discard.isPending;
  return (
    <section className={`card ${styles.heldWork}`} aria-labelledby="held-heading" data-testid="held-work">
      <h2 id="held-heading">Work not pushed</h2>
      <p>
        The last turn&apos;s commit <code className="sha">{task.commit ?? ""}</code> could not be pushed, so it is kept on node{" "}
        <code title={held.nodeId}>{shortId(held.nodeId)}</code> (since {absoluteTime(held.since)}) until you decide.
      </p>
      {held.error && (
        <p className="field-error" data-testid="held-work-error">
          {held.error}
        </p>
      )}
      {refusedAgain && <ErrorBanner title="Still refused" testId="held-work-refused">{refusedAgain}</ErrorBanner>}
      {(push.error ?? discard.error) && <ErrorBanner title="Could not do that">{(push.error ?? discard.error)!.message}</ErrorBanner>}
      {confirming ? (
        <div className={styles.heldConfirm}>
          <p>Discard it? This commit exists only on the node.</p>
          <ConfirmActions keepRef={keepRef} onKeep={() => setConfirming(false)} onConfirm={() => discard.mutate()} busy={busy} label="Discard the work" busyLabel="Discarding…" testId="held-work-discard-confirm" />
        </div>
      ) : (
        <div className={styles.heldActions}>
          <button type="button" className="button primary" onClick={() => push.mutate()} disabled={busy} aria-busy={push.isPending} data-testid="held-work-push">
            {push.isPending ? "Pushing…" : "Push again"}
          </button>
          <button type="button" className="button" onClick={() => setConfirming(true)} disabled={busy} data-testid="held-work-discard">
            Discard…
          </button>
        </div>
      )}
    </section>
  );
}
