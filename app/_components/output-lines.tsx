import type { OutputEntry } from "../_lib/agent-events";

const PREFIX = { text: "", tool: "$ ", result: "✓ ", error: "✕ ", system: "· ", line: "" } as const;

/** Agent output (as `toEntries` reads it) in the dark output block; `truncated` notes older lines cut. */
export function OutputLines(props: { entries: OutputEntry[]; truncated: boolean; testId: string; live?: boolean }) {
  return (
    <pre className="output" data-testid={props.testId} aria-live={props.live ? "polite" : undefined}>
      {props.truncated && <span className="output-system">… earlier output not shown{"\n"}</span>}
      {props.entries.map((entry, i) => (
        <span key={i} className={`output-${entry.kind}`}>
          {PREFIX[entry.kind]}
          {entry.text}
          {"\n"}
        </span>
      ))}
    </pre>
  );
}
