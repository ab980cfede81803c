/**
 * Where the product writes a table's `status`: every Drizzle insert or update of the table whose
 * statement sets `status`, and raw SQL that updates it, in lib/, inngest/ and app/ (tests aside).
 * The lifecycle tests hold a status to its one writer, whose updates consult the transition table.
 */
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "../..");
const SOURCE_DIRS = ["lib", "inngest", "app"];

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return /\.tsx?$/.test(entry.name) && !/\.test\.tsx?$/.test(entry.name) ? [full] : [];
  });
}

/** The statements outside `owner` that write `status` of the Drizzle table `table` (its SQL name is `sqlName`), as "file: statement". */
export function statusWritersOutside(table: string, owner: string, sqlName = table): string[] {
  const drizzleWrite = new RegExp(`\\.(update|insert)\\(${table}\\)`, "g");
  const rawUpdate = new RegExp(`update\\s+${sqlName}\\s+set\\b[^\`]*\\bstatus\\b`, "i");
  const found: string[] = [];
  for (const file of SOURCE_DIRS.flatMap((dir) => sourceFiles(path.join(ROOT, dir)))) {
    const relative = path.relative(ROOT, file);
    if (relative === owner) continue;
    const text = fs.readFileSync(file, "utf8");
    for (const match of text.matchAll(drizzleWrite)) {
      const end = text.indexOf(";", match.index);
      const statement = text.slice(match.index, end === -1 ? undefined : end);
      if (/\bstatus\s*:/.test(statement)) found.push(`${relative}: ${statement.replace(/\s+/g, " ").slice(0, 160)}`);
    }
    if (rawUpdate.test(text)) found.push(`${relative}: raw SQL updates ${sqlName}.status`);
  }
  return found;
}
