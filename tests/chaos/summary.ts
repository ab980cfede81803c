/**
 * The chaos project's global setup: clears the rows an earlier run left, and at the end prints the
 * table of every chaos file that ran (report.ts), wherever the workers ran them.
 */
import fs from "node:fs";
import { printSummary, ROWS_DIR } from "./report";

/** The table's order: crashes first, then load and wakes. */
const FILES = ["warm-pool", "cold-nodes", "load", "wakes"];

export default function setup() {
  fs.rmSync(ROWS_DIR, { recursive: true, force: true });
  return () => printSummary(FILES);
}
