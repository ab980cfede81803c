/**
 * No two units of lib/ import each other. A unit is a folder directly under lib/ (lib/tasks/) or a
 * file at its root (lib/config.ts is the unit `config`). Two units that import each other have no
 * order between them: neither can be read, tested or changed without the other. When a lower unit
 * needs something from a higher one, that piece belongs lower, or the caller passes it in.
 *
 * Counted: static imports (type-only ones too), re-exports and dynamic `import()` with a literal
 * path, written relative or with the `@/lib/` alias. Test files are not counted (a test may reach
 * across units to set up its scene). Run by the test command's lint phase; exits 1 naming each pair
 * with one import of each direction.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const SOURCE = /\.tsx?$/;
const TEST = /\.test\.tsx?$/;

/** One import of `to`'s code in `file` (relative to the project root), at `line`. */
export type UnitImport = { from: string; to: string; file: string; line: number; specifier: string };
export type MutualPair = { units: [string, string]; forward: UnitImport; backward: UnitImport };

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === "node_modules" ? [] : sourceFiles(full);
    return SOURCE.test(entry.name) && !TEST.test(entry.name) && !entry.name.endsWith(".d.ts") ? [full] : [];
  });
}

/** The unit a path inside lib/ belongs to, or undefined outside lib/. */
function unitOf(libDir: string, target: string): string | undefined {
  const relative = path.relative(libDir, target);
  if (!relative || relative.startsWith("..") || path.isAbsolute(relative)) return undefined;
  const [first] = relative.split(path.sep);
  return first!.replace(SOURCE, "");
}

/** Every import in lib/ from one unit into another (`root` holds lib/; `@/` is `root`). */
export function unitImports(root: string): UnitImport[] {
  const libDir = path.join(root, "lib");
  const found: UnitImport[] = [];
  for (const file of sourceFiles(libDir)) {
    const text = fs.readFileSync(file, "utf8");
    const from = unitOf(libDir, file)!;
    for (const { fileName: specifier, pos } of ts.preProcessFile(text, true, true).importedFiles) {
      const target = specifier.startsWith("@/") ? path.join(root, specifier.slice(2)) : specifier.startsWith(".") ? path.resolve(path.dirname(file), specifier) : undefined;
      const to = target && unitOf(libDir, target);
      if (!to || to === from) continue;
      const line = text.slice(0, pos).split("\n").length;
      found.push({ from, to, file: path.relative(root, file), line, specifier });
    }
  }
  return found;
}

/** The pairs of units that import each other, each with the first import found in either direction. */
export function mutualPairs(root: string): MutualPair[] {
  const first = new Map<string, UnitImport>();
  for (const edge of unitImports(root)) if (!first.has(`${edge.from}>${edge.to}`)) first.set(`${edge.from}>${edge.to}`, edge);
  const pairs: MutualPair[] = [];
  for (const forward of first.values()) {
    const backward = first.get(`${forward.to}>${forward.from}`);
    if (backward && forward.from < forward.to) pairs.push({ units: [forward.from, forward.to], forward, backward });
  }
  return pairs.sort((a, b) => a.units.join().localeCompare(b.units.join()));
}

const where = (edge: UnitImport) => `${edge.file}:${edge.line} imports "${edge.specifier}"`;

export function describePair(pair: MutualPair): string {
  return `lib/${pair.units[0]} <-> lib/${pair.units[1]}\n  ${where(pair.forward)}\n  ${where(pair.backward)}`;
}

// `node --import tsx scripts/check-lib-layers.ts [root]`
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  const root = path.resolve(process.argv[2] ?? path.join(import.meta.dirname, ".."));
  const pairs = mutualPairs(root);
  if (pairs.length) {
    console.error(`${pairs.length} pair${pairs.length === 1 ? "" : "s"} of lib/ units import each other (move the piece one side needs to the unit that owns it, or have the caller pass it in):\n${pairs.map(describePair).join("\n")}`);
    process.exit(1);
  }
  console.error("lib/ layers: no two units import each other");
}
