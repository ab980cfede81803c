/**
 * The vm-agent as one download: `vm-agent.tar.gz`, holding the daemon bundled by esbuild into
 * plain ES modules (`vm-agent.mjs`, `purge-node-users.mjs` and the chunk they share), the helper
 * scripts it runs by path (`agents/*.mjs`, vm-agent/helper-scripts.ts) and `artifact.json`. A node
 * runs `node vm-agent.mjs` from the unpacked folder: no tsx, no node_modules.
 *
 * Built on first request and cached under `<cacheDir>/vm-agent/<sources hash>.tar.gz`, the hash
 * covering every file the last build read (esbuild's metafile) and the toolchain; a changed source
 * builds anew. The same sources give the same bytes (tar.ts), so the same sha256.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as esbuild from "esbuild";
import { publishFile, readBuiltFile, readJsonFile, singleFlight, temporaryBeside, type BuiltFile } from "./cache";
import { writeTarGz, type TarEntry } from "./tar";

const ENTRY_POINTS = { "vm-agent": "vm-agent/main.ts", "purge-node-users": "vm-agent/purge-node-users.ts" };
/** The scripts the daemon runs by path: every `.mjs` there ships as it is (vm-agent/helper-scripts.ts finds them). */
const HELPERS_DIR = "vm-agent/agents";
const helperSources = (rootDir: string) =>
  fs
    .readdirSync(path.join(rootDir, HELPERS_DIR))
    .filter((name) => name.endsWith(".mjs"))
    .sort()
    .map((name) => `${HELPERS_DIR}/${name}`);
/** Bumped whenever the build's options or the archive's layout change, so no older build is served. */
const LAYOUT_VERSION = 1;
/** Dependencies written as CommonJS `require` Node's built-ins; an ES module has no `require` of its own. */
const REQUIRE_SHIM = 'import { createRequire as __acpCreateRequire } from "node:module"; const require = __acpCreateRequire(import.meta.url);';

const toolchain = () => `vm-agent layout ${LAYOUT_VERSION}; esbuild ${esbuild.version}; zlib ${process.versions.zlib}`;

/**
 * The hash of the sources `bundled` (paths under rootDir, from a build's metafile) and of the helper
 * scripts there are now; undefined when one of them is gone.
 */
function sourcesHash(rootDir: string, bundled: string[]): string | undefined {
  const hash = createHash("sha256").update(toolchain());
  for (const input of [...new Set([...bundled, ...helperSources(rootDir)])].sort()) {
    let content: Buffer;
    try {
      content = fs.readFileSync(path.join(rootDir, input));
    } catch {
      return undefined;
    }
    hash.update(`\0${input}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex");
}

const readCached = (dir: string, hash: string) => readBuiltFile(path.join(dir, `${hash}.tar.gz`), path.join(dir, `${hash}.json`));

async function bundle(rootDir: string) {
  const outdir = path.join(rootDir, ".vm-agent-bundle"); // names the outputs only: nothing is written
  const result = await esbuild.build({
    absWorkingDir: rootDir,
    entryPoints: ENTRY_POINTS,
    outdir,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Packages with an ES module build (jsonc-parser) ship a UMD `main` whose requires esbuild cannot follow.
    mainFields: ["module", "main"],
    outExtension: { ".js": ".mjs" },
    chunkNames: "chunk-[hash]",
    banner: { js: REQUIRE_SHIM },
    metafile: true,
    write: false,
    logLevel: "silent",
  });
  const outputs = result.outputFiles
    .map((output) => ({ name: path.relative(outdir, output.path), content: Buffer.from(output.contents) }))
    // By code point, not by locale: the order is part of the bytes.
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { outputs, inputs: Object.keys(result.metafile.inputs) };
}

async function buildAndCache(rootDir: string, dir: string): Promise<BuiltFile> {
  const { outputs, inputs } = await bundle(rootDir);
  const hash = sourcesHash(rootDir, inputs);
  if (!hash) throw new Error("a source of the vm-agent changed while it was built; try again");
  const cached = readCached(dir, hash);
  if (cached) return cached;
  const entries: TarEntry[] = [
    ...outputs.map((output) => ({ kind: "file" as const, name: output.name, mode: 0o644 as const, content: output.content })),
    { kind: "dir", name: "agents" },
    ...helperSources(rootDir).map((source) => ({ kind: "file" as const, name: `agents/${path.basename(source)}`, mode: 0o644 as const, path: path.join(rootDir, source) })),
    { kind: "file", name: "artifact.json", mode: 0o644, content: Buffer.from(`${JSON.stringify({ sources: hash, toolchain: toolchain() })}\n`) },
  ];
  const file = path.join(dir, `${hash}.tar.gz`);
  const temporary = temporaryBeside(file);
  try {
    const written = await writeTarGz(entries, temporary, 9);
    fs.renameSync(temporary, file);
    publishFile(path.join(dir, `${hash}.json`), `${JSON.stringify(written)}\n`);
    publishFile(path.join(dir, "inputs.json"), `${JSON.stringify(inputs)}\n`);
    removeOtherBuilds(dir, hash);
    return { file, ...written };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/** Older builds go: a reader that has one open keeps reading it (Linux unlinks, it does not cut). */
function removeOtherBuilds(dir: string, keep: string) {
  for (const name of fs.readdirSync(dir)) {
    if (/^[0-9a-f]{64}\.(tar\.gz|json)$/.test(name) && !name.startsWith(keep)) fs.rmSync(path.join(dir, name), { force: true });
  }
}

const builds = singleFlight<BuiltFile>();

/** The current vm-agent archive of the sources under `rootDir`, built when its cache has none. */
export async function vmAgentArtifact(options: { rootDir: string; cacheDir: string }): Promise<BuiltFile> {
  const rootDir = path.resolve(options.rootDir);
  const dir = path.join(options.cacheDir, "vm-agent");
  fs.mkdirSync(dir, { recursive: true });
  const lastInputs = readJsonFile(path.join(dir, "inputs.json"));
  const known = Array.isArray(lastInputs) && lastInputs.every((input) => typeof input === "string") ? sourcesHash(rootDir, lastInputs as string[]) : undefined;
  const cached = known ? readCached(dir, known) : undefined;
  return cached ?? builds(`${rootDir}\0${dir}`, () => buildAndCache(rootDir, dir));
}
