import type { TaskDetail } from "@/lib/contracts/api";
import { toEntries } from "../_lib/agent-events";
import { OutputLines } from "./output-lines";

/** The agent's output as it arrives (the newest lines; older ones are noted as cut). */
export function AgentOutput({ output }: { output: TaskDetail["output"] }) {
  const entries = toEntries(output.lines);
  return (
    <section className="card output-card" aria-labelledby="output-heading">
      <h2 id="output-heading">Agent output</h2>
      {entries.length === 0 ? (
        <p className="muted">Nothing yet. The agent&apos;s output appears here as it works.</p>
      ) : (
        <OutputLines entries={entries} truncated={output.truncated} testId="agent-output" live />
      )}
    </section>
  );
}
