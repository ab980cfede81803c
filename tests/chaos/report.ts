/** The chaos suite's table: scenario, runs, completed, duplicated side effects, time to recover. */
import fs from "node:fs";
import path from "node:path";

export type Row = { scenario: string; runs: number; completed: string; duplicated: number; recoverMs: number[] };

const rows: Row[] = [];

export function record(scenario: string, run: { completed: number; tasks: number; duplicated: number; recoverMs?: number }) {
  let row = rows.find((r) => r.scenario === scenario);
  if (!row) rows.push((row = { scenario, runs: 0, completed: "0/0", duplicated: 0, recoverMs: [] }));
  const [done, total] = row.completed.split("/").map(Number) as [number, number];
  row.runs++;
  row.completed = `${done + run.completed}/${total + run.tasks}`;
  row.duplicated += run.duplicated;
  if (run.recoverMs !== undefined) row.recoverMs.push(run.recoverMs);
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function table(): string {
  const lines = [
    "| scenario | runs | completed | duplicated side effects | time to recover (median / worst) |",
    "|---|---|---|---|---|",
    ...rows.map((r) => {
      const sorted = [...r.recoverMs].sort((a, b) => a - b);
      const recover = sorted.length ? `${seconds(sorted[Math.floor((sorted.length - 1) / 2)]!)} / ${seconds(sorted[sorted.length - 1]!)}` : "—";
      return `| ${r.scenario} | ${r.runs} | ${r.completed} | ${r.duplicated} | ${recover} |`;
    }),
  ];
  return lines.join("\n");
}

/** Prints the table and keeps it in test-results/chaos.md. */
export function printTable(file = "chaos") {
  const text = table();
  process.stdout.write(`\nChaos suite\n${text}\n\n`);
  const dir = path.resolve(import.meta.dirname, "../../test-results");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, `${file}.md`), `${text}\n`);
}
