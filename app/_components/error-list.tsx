"use client";
import type { ErrorKind } from "@/lib/contracts/api";
import { useLiveErrors } from "../_lib/live";
import { useErrors } from "../_lib/queries";
import { useNow } from "../_lib/use-now";
import { ErrorBanner } from "./error-banner";
import { KIND_DESCRIPTIONS } from "./error-kind-badge";
import { ErrorKindFilter } from "./error-kind-filter";
import { ErrorRow } from "./error-row";
import { LiveIndicator } from "./live-indicator";

const EMPTY: Record<ErrorKind, { title: string; text: string }> = {
  failure: { title: "No permanent failures", text: "A task that fails for good shows here with its reason, the step, its node and workspace." },
  recovery: { title: "Nothing re-driven or restarted", text: "A lost run re-driven, a node daemon restarted or a task moved off a lost node shows here, and why." },
  stuck: { title: "No stuck tasks", text: "A task with no progress in a step past its limit shows here, with the step and for how long." },
  orphan: { title: "No orphans", text: "A workspace or node that belongs to no live task shows here." },
  cleanup: { title: "No failed cleanups", text: "A cleanup that failed (it is retried) shows here with its reason." },
};

/** The newest errors (of `kind`, or all), live, with filter chips by kind. */
export function ErrorList({ kind }: { kind: ErrorKind | null }) {
  const { data, error, isPending } = useErrors(kind);
  const connection = useLiveErrors(kind);
  const now = useNow(10_000);
  const errors = data?.errors ?? [];

  return (
    <section aria-labelledby="errors-heading" aria-busy={isPending}>
      <div className="page-head">
        <h1 id="errors-heading">Errors</h1>
        <LiveIndicator connection={connection} />
      </div>
      <ErrorKindFilter kind={kind} counts={data?.counts} />
      <div className="card">
        {error && !data && <ErrorBanner title="Could not load the errors.">{error.message}</ErrorBanner>}
        {isPending && !error && <p className="muted placeholder">Loading errors…</p>}
        {data && errors.length === 0 && (
          <div className="empty">
            <p className="empty-title">{kind ? EMPTY[kind].title : "No errors recorded"}</p>
            <p>
              {kind
                ? EMPTY[kind].text
                : "Every permanent failure, re-driven run, stuck task, orphan and failed cleanup shows here with its reason, linked to its task and node."}
            </p>
          </div>
        )}
        {kind && errors.length > 0 && <p className="muted list-note">{KIND_DESCRIPTIONS[kind]}.</p>}
        <ul className="rows" data-testid="error-list">
          {errors.map((entry) => (
            <ErrorRow key={entry.id} error={entry} now={now} />
          ))}
        </ul>
        {errors.length >= 200 && <p className="muted list-note">The newest 200 are shown.</p>}
      </div>
    </section>
  );
}
