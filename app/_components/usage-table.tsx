import type { ReactNode } from "react";
import type { UsageDay, UsageReport } from "@/lib/contracts/api";
import { totalTokens } from "@/lib/contracts/usage";
import { dayLabel, personTotals, type Person, type UsageFigures } from "../_lib/usage-report";
import { formatNodeTime, formatTokens, formatTokensExact, formatUsd } from "../_lib/usage-format";
import pageStyles from "./usage-page.module.css";
import styles from "./usage.module.css";

const FIGURE_HEADS = ["Cost", "Tokens", "Turns", "Tasks", "Node time"] as const;
/** Left out on a phone so a row fits its width: the totals above have both. */
const WIDE_ONLY: readonly string[] = ["Turns", "Tasks"];

/** The cost, and under it how many turns it leaves out (their model has no price): never shown as complete. */
function CostCell({ costUsd, unpricedTurns }: UsageFigures) {
  if (unpricedTurns === 0) return <td>{formatUsd(costUsd)}</td>;
  return (
    <td data-tone="warn" className={pageStyles.costCell} title={`${unpricedTurns} ${unpricedTurns === 1 ? "turn's model has" : "turns' models have"} no price in MODEL_PRICES: the cost is incomplete`}>
      {costUsd > 0 ? formatUsd(costUsd) : "No price"} <span className={pageStyles.unpriced}>+ {unpricedTurns} unpriced</span>
    </td>
  );
}

/** A row's figures, in the order of FIGURE_HEADS. */
function FigureCells({ figures }: { figures: UsageFigures }) {
  const tokens = totalTokens(figures);
  return (
    <>
      <CostCell {...figures} />
      <td title={`${formatTokensExact(tokens)} tokens`}>{formatTokens(tokens)}</td>
      <td className={pageStyles.wideOnly}>{figures.turns}</td>
      <td className={pageStyles.wideOnly}>{figures.tasks}</td>
      <td>{formatNodeTime(figures.nodeMs)}</td>
    </>
  );
}

function Heads({ first, withPerson }: { first: string; withPerson?: boolean }) {
  return (
    <thead>
      <tr>
        <th scope="col">{first}</th>
        {withPerson && <th scope="col">Person</th>}
        {FIGURE_HEADS.map((head) => (
          <th key={head} scope="col" className={WIDE_ONLY.includes(head) ? `${pageStyles.number} ${pageStyles.wideOnly}` : pageStyles.number}>
            {head}
          </th>
        ))}
      </tr>
    </thead>
  );
}

/** A table that scrolls sideways on a narrow screen, not the page. */
function Scroller({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className={pageStyles.scroller} role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

const personName = (person: Person) => person.name || person.email || person.id;

/** Each day with usage, newest first; with `team`, a row per person on that day. */
export function UsageDayTable({ report, team }: { report: UsageReport; team: boolean }) {
  const people = new Map(report.people.map((person) => [person.id, person]));
  const byDay = new Map<string, UsageDay[]>();
  for (const entry of report.days) byDay.set(entry.day, [...(byDay.get(entry.day) ?? []), entry]);
  const days = [...byDay.keys()].sort().reverse();
  return (
    <Scroller label="Usage per day">
      <table className={`${styles.table} ${pageStyles.table}`} data-testid="usage-day-table">
        <Heads first="Day" withPerson={team} />
        {days.map((day) => {
          const rows = byDay.get(day) ?? [];
          return (
            <tbody key={day} data-testid={`usage-day-${day}`}>
              {rows.map(({ day: _day, userId, ...figures }, index) => (
                <tr key={userId}>
                  {index === 0 && (
                    <th scope="rowgroup" rowSpan={rows.length} className={pageStyles.dayCell}>
                      <time dateTime={day}>{dayLabel(day)}</time>
                    </th>
                  )}
                  {team && <td className={pageStyles.personCell}>{personName(people.get(userId) ?? { id: userId, name: userId, email: "" })}</td>}
                  <FigureCells figures={figures} />
                </tr>
              ))}
            </tbody>
          );
        })}
      </table>
    </Scroller>
  );
}

/** Each person's sums over the window, the costliest first (team view). */
export function UsagePeopleTable({ report }: { report: UsageReport }) {
  return (
    <Scroller label="Usage per person">
      <table className={`${styles.table} ${pageStyles.table}`} data-testid="usage-people-table">
        <Heads first="Person" />
        <tbody>
          {personTotals(report).map(({ person, figures }) => (
            <tr key={person.id} data-testid={`usage-person-${person.id}`}>
              <th scope="row" className={pageStyles.personCell} title={person.email || undefined}>
                {personName(person)}
              </th>
              <FigureCells figures={figures} />
            </tr>
          ))}
        </tbody>
      </table>
    </Scroller>
  );
}
