import type { TaskDetail } from "@/lib/contracts/api";
import { toEntries } from "../_lib/agent-events";

const PREFIX = { text: "", tool: "$ ", result: "✓ ", error: "✕ ", system: "· ", line: "" } as const;

/** The agent's output as it arrives (the newest lines; older ones are noted as cut). */
export function AgentOutput({ output }: { output: TaskDetail["output"] }) {
  const entries = toEntries(output.lines);
  return (
    <section className="card output-card" aria-labelledby="output-heading">
      <h2 id="output-heading">Agent output</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing yet. The agent&apos;s output appears here as it works.</p>
      ) : (
        <pre className="output" data-testid="agent-output" aria-live="polite">
          {output.truncated && <span className="output-system">… earlier output not shown{"\n"}</span>}
          {entries.map((entry, i) => (
            <span key={i} className={`output-${entry.kind}`}>
              {PREFIX[entry.kind]}
              {entry.text}
              {"\n"}
            </span>
          ))}
        </pre>
      )}
    </section>
  );
}
