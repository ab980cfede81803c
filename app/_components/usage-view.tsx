"use client";
import Link from "next/link";
import type { UsageReport } from "@/lib/contracts/api";
import { useMe, useUsage } from "../_lib/queries";
import { dayLabel } from "../_lib/usage-report";
import { ErrorBanner } from "./error-banner";
import { UsageChart } from "./usage-chart";
import { UsageDayTable, UsagePeopleTable } from "./usage-table";
import { UsageTotals } from "./usage-totals";
import styles from "./usage-page.module.css";

/** The window the page shows, in UTC days up to today. */
const DAYS = 30;

/** Mine or the whole team's: the choice lives in the URL. */
function ScopeToggle({ team }: { team: boolean }) {
  return (
    <nav className={styles.segments} aria-label="Whose usage">
      <Link href="/usage" replace scroll={false} className={styles.segment} aria-current={team ? undefined : "true"} data-testid="usage-scope-mine">
        Mine
      </Link>
      <Link href="/usage?scope=team" replace scroll={false} className={styles.segment} aria-current={team ? "true" : undefined} data-testid="usage-scope-team">
        Team
      </Link>
    </nav>
  );
}

function UsageBody({ report, team }: { report: UsageReport; team: boolean }) {
  return (
    <>
      <UsageTotals report={report} />
      <UsageChart report={report} />
      {team && report.days.length > 0 && (
        <section className="card" aria-labelledby="usage-people-heading">
          <h2 id="usage-people-heading">By person</h2>
          <UsagePeopleTable report={report} />
        </section>
      )}
      <section className="card" aria-labelledby="usage-days-heading">
        <h2 id="usage-days-heading">By day</h2>
        {report.days.length === 0 ? (
          <div className="empty" data-testid="usage-empty">
            <p className="empty-title">No usage in the last {DAYS} days</p>
            <p>Each task&apos;s tokens, cost and time on a node show here by the day they were used.</p>
          </div>
        ) : (
          <UsageDayTable report={report} team={team} />
        )}
      </section>
    </>
  );
}

/**
 * Tokens, cost and node time over the last 30 UTC days: totals, a bar per day and a table. An
 * admin in team mode may switch to the whole team's (local mode has one person, so nothing to switch).
 */
export function UsageView({ team: teamAsked }: { team: boolean }) {
  const me = useMe();
  const canSeeTeam = me.data?.mode === "team" && me.data.user.role === "admin";
  const team = teamAsked && canSeeTeam;
  // Asked for the team's: wait to know whether the caller may see it, rather than read "mine" first.
  const usage = useUsage(DAYS, team ? "team" : "mine", !(teamAsked && me.isPending));
  const report = usage.data;
  return (
    <section aria-labelledby="usage-heading" aria-busy={usage.isPending} className={styles.page}>
      <div className="page-head">
        <div>
          <h1 id="usage-heading">Usage</h1>
          <p className={`muted ${styles.window}`} data-testid="usage-window">
            {team ? `The team's, last ${DAYS} days` : canSeeTeam ? `Yours, last ${DAYS} days` : `Last ${DAYS} days`}
            {report && ` · ${dayLabel(report.from)} – ${dayLabel(report.to)}`} (UTC)
          </p>
        </div>
        {canSeeTeam && <ScopeToggle team={team} />}
      </div>
      {usage.error && !report && <ErrorBanner title="Could not load the usage.">{usage.error.message}</ErrorBanner>}
      {!report && !usage.error && <p className="muted placeholder">Loading usage…</p>}
      {report && <UsageBody report={report} team={team} />}
    </section>
  );
}
