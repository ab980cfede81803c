/**
 * The chaos suite's table: scenario, runs, completed, duplicated side effects, time to recover.
 * Each chaos file runs in a worker of its own: it prints its rows and keeps them in
 * test-results/chaos/<file>.json; the chaos project's global teardown (summary.ts) prints the rows
 * of every file as one table and keeps it in test-results/chaos.md.
 */
import fs from "node:fs";
import path from "node:path";

export type Row = { scenario: string; runs: number; completed: string; duplicated: number; recoverMs: number[] };

const rows: Row[] = [];

const RESULTS = path.resolve(import.meta.dirname, "../../test-results");
/** Where each file keeps its rows until the run's end. */
export const ROWS_DIR = path.join(RESULTS, "chaos");

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

export function table(of: Row[] = rows): string {
  const lines = [
    "| scenario | runs | completed | duplicated side effects | time to recover (median / worst) |",
    "|---|---|---|---|---|",
    ...of.map((r) => {
      const sorted = [...r.recoverMs].sort((a, b) => a - b);
      const recover = sorted.length ? `${seconds(sorted[Math.floor((sorted.length - 1) / 2)]!)} / ${seconds(sorted[sorted.length - 1]!)}` : "—";
      return `| ${r.scenario} | ${r.runs} | ${r.completed} | ${r.duplicated} | ${recover} |`;
    }),
  ];
  return lines.join("\n");
}

/** Prints this file's rows and keeps them for the run's table. */
export function printTable(file: string) {
  process.stdout.write(`\nChaos suite (${file})\n${table()}\n\n`);
  fs.mkdirSync(ROWS_DIR, { recursive: true });
  fs.writeFileSync(path.join(ROWS_DIR, `${file}.json`), `${JSON.stringify(rows)}\n`);
}

/** Every file's rows as one table (printed and kept in test-results/chaos.md): the files in `order` first, then any other by name. */
export function printSummary(order: readonly string[]) {
  const kept = fs.existsSync(ROWS_DIR) ? fs.readdirSync(ROWS_DIR).filter((f) => f.endsWith(".json")).map((f) => f.slice(0, -".json".length)) : [];
  const rank = (file: string) => (order.includes(file) ? order.indexOf(file) : order.length);
  const files = kept.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  const all = files.flatMap((f) => JSON.parse(fs.readFileSync(path.join(ROWS_DIR, `${f}.json`), "utf8")) as Row[]);
  if (all.length === 0) return;
  const text = table(all);
  process.stdout.write(`\nChaos suite\n${text}\n\n`);
  fs.writeFileSync(path.join(RESULTS, "chaos.md"), `${text}\n`);
}
