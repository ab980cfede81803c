/**
 * The app's production build, kept in step with its sources: the README's first command serves a
 * build (`next start`), built on the first start and again whenever a source it is made from
 * changed since. A build records the fingerprint of its sources in `<distDir>/acp-sources.json`;
 * a folder without that record, or with another fingerprint, is built again. A failed build leaves
 * no record, so the next start tries again.
 */
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const ROOT = path.resolve(import.meta.dirname, "..");

/**
 * What `next build` reads: the app's folders and top-level files, and the lock (which pins Next.js
 * and every package bundled). Tests are not part of the build; the vm-agent runs from its sources.
 */
const SOURCE_FOLDERS = ["app", "inngest", "lib", "db", "public"];
const SOURCE_FILES = ["proxy.ts", "instrumentation.ts", "next.config.ts", "tsconfig.json", "package.json", "package-lock.json"];
const NOT_BUILT = /\.test\.tsx?$/;

export const SOURCES_RECORD = "acp-sources.json";

export type SourcesRecord = { fingerprint: string; files: Record<string, string>; builtAt: string };

function filesUnder(root: string, folder: string): string[] {
  const dir = path.join(root, folder);
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .filter((file) => !NOT_BUILT.test(file));
}

/** Each source file's content hash, and one fingerprint over all of them (names included). */
export function sourceFingerprint(root = ROOT): { fingerprint: string; files: Record<string, string> } {
  const names = [...SOURCE_FOLDERS.flatMap((folder) => filesUnder(root, folder)), ...SOURCE_FILES.filter((file) => fs.existsSync(path.join(root, file)))].sort();
  const files: Record<string, string> = {};
  const all = createHash("sha256");
  for (const name of names) {
    files[name] = createHash("sha256").update(fs.readFileSync(path.join(root, name))).digest("hex");
    all.update(`${name}\0${files[name]}\n`);
  }
  return { fingerprint: all.digest("hex"), files };
}

export function readSourcesRecord(distDir: string, root = ROOT): SourcesRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.resolve(root, distDir, SOURCES_RECORD), "utf8")) as SourcesRecord;
  } catch {
    return undefined;
  }
}

/** Why `distDir` must be built again (no build, or which sources changed), or undefined when it is current. */
export function staleBuildReason(distDir: string, root = ROOT): string | undefined {
  const record = readSourcesRecord(distDir, root);
  if (!record || !fs.existsSync(path.resolve(root, distDir, "BUILD_ID"))) return `no production build in ${distDir} yet`;
  const now = sourceFingerprint(root);
  if (now.fingerprint === record.fingerprint) return undefined;
  const changed = Object.keys(now.files).filter((file) => record.files[file] !== now.files[file]);
  const removed = Object.keys(record.files).filter((file) => !(file in now.files));
  const named = [...changed, ...removed];
  const shown = named.slice(0, 3).join(", ") + (named.length > 3 ? ` and ${named.length - 3} more` : "");
  return `${named.length} source file${named.length === 1 ? "" : "s"} changed since the build of ${record.builtAt} (${shown})`;
}

/** Runs `next build` into `distDir` and records the sources it was made from (taken before it starts). */
export function buildApp(distDir: string, options: { root?: string; output?: "inherit" | "quiet" } = {}) {
  const root = options.root ?? ROOT;
  const sources = sourceFingerprint(root);
  fs.rmSync(path.resolve(root, distDir, SOURCES_RECORD), { force: true });
  execFileSync(process.execPath, [path.join(root, "node_modules/next/dist/bin/next"), "build"], {
    cwd: root,
    stdio: ["ignore", options.output === "inherit" ? "inherit" : "ignore", "inherit"],
    env: { ...process.env, NEXT_DIST_DIR: distDir, NEXT_TELEMETRY_DISABLED: "1" },
  });
  const record: SourcesRecord = { ...sources, builtAt: new Date().toISOString() };
  fs.writeFileSync(path.resolve(root, distDir, SOURCES_RECORD), `${JSON.stringify(record)}\n`);
}

/** Builds `distDir` when it is missing or older than its sources; says why, and how long it took. */
export function ensureAppBuild(distDir: string, log: (line: string) => void): "current" | "built" {
  const reason = staleBuildReason(distDir);
  if (!reason) {
    log(`The production build in ${distDir} is up to date.`);
    return "current";
  }
  log(`Building the app for production (${reason}); this takes a few minutes…`);
  const started = Date.now();
  buildApp(distDir, { output: "inherit" });
  log(`Built the app in ${Math.round((Date.now() - started) / 1000)} s.`);
  return "built";
}

// `node --import tsx scripts/app-build.ts [distDir]`: the build the test command shares between its suites.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename)) {
  buildApp(process.argv[2] ?? ".next");
}
