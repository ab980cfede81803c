import type { TaskDetail } from "@/lib/contracts/api";
import { CHECK_SOURCE_LABEL, roundText, summarySentence } from "../_lib/checks-view";
import { CHECKS_STATE_TONE } from "../_lib/status-tone";
import { CheckCommand } from "./check-command";
import styles from "./checks.module.css";

/** Nothing was declared: where the node looks for checks, in the order it looks. */
function HowToDeclare() {
  return (
    <p className={`muted ${styles.note}`} data-testid="checks-how-to">
      The node runs checks after each turn: the task&apos;s own (given when it starts), else an executable <code>.agent/checks.sh</code> in the repository, else the <code>test</code> script of its <code>package.json</code>. Add one, and each turn ends with evidence.
    </p>
  );
}

/**
 * The repository's checks after the newest turn that ran them: how it stands in words (its tone:
 * passed, being fixed, failing, none), where they came from, the round, and each command's result
 * and output. Hidden until a turn ran them.
 */
export function ChecksCard({ task }: { task: TaskDetail }) {
  const { checks } = task;
  if (!checks) return null;
  const { result } = checks;
  const declared = checks.state !== "none";
  return (
    <section className="card" aria-labelledby="checks-heading" data-testid="task-checks" data-state={checks.state}>
      <h2 id="checks-heading">Checks</h2>
      <p className={styles.summary} data-tone={CHECKS_STATE_TONE[checks.state]} data-testid="checks-summary">
        <span className={styles.summaryDot} aria-hidden="true" />
        {summarySentence(checks.summary)}
      </p>
      {declared && (
        <dl className={`facts ${styles.facts}`}>
          <dt>From</dt>
          <dd data-testid="checks-source">{CHECK_SOURCE_LABEL[result.source]}</dd>
          <dt>Round</dt>
          <dd data-testid="checks-round" title="A failed round sends the agent the failing commands, up to the last round; then the task waits for you">
            {roundText(checks)}
          </dd>
          <dt>After</dt>
          <dd>turn {checks.turn}</dd>
        </dl>
      )}
      {result.error && (
        <p className={styles.error} data-testid="checks-error">
          {result.error}
        </p>
      )}
      {result.commands.length > 0 && (
        <ul className={styles.commands}>
          {result.commands.map((command, index) => (
            <CheckCommand key={index} command={command} />
          ))}
        </ul>
      )}
      {!declared && <HowToDeclare />}
    </section>
  );
}
