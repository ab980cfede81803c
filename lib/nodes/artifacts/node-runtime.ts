/**
 * The control plane's own Node, packed for nodes whose distribution has no Node 20 (Debian 12 and
 * Ubuntu 24.04 ship 18): `bin/node` in a tar.gz, cached under `<cacheDir>/node-runtime/` by the
 * binary's version, CPU and sha256. Only a Linux control plane has one to offer, and only to nodes
 * with its CPU (the installer checks). The binary is taken as it is: one that needs shared
 * libraries the node lacks fails the installer's version check, with its own message.
 *
 * Reading the 100 MB binary for its sha256 takes most of a second, which every local node's start
 * would pay (local-install.ts): which pack a binary has is remembered in the cache by the binary's
 * identity (device, inode, size, change times), which any change to it changes.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { RuntimeArch } from "../../contracts/vm-agent-downloads";
import { publishFile, readBuiltFile, readJsonFile, singleFlight, temporaryBeside, type BuiltFile } from "./cache";
import { writeTarGz } from "./tar";

export type NodeRuntimeFile = BuiltFile & { nodeVersion: string; arch: RuntimeArch };

/** A 100 MB binary: the fastest compression costs a tenth more bytes than the default and a third of the time. */
const RUNTIME_GZIP_LEVEL = 1;

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

const builtPack = (dir: string, name: string) => readBuiltFile(path.join(dir, `${name}.tar.gz`), path.join(dir, `${name}.json`));

/** The file that remembers which pack the binary with this identity has. */
function identityFile(dir: string, execPath: string, stat: fs.Stats) {
  const identity = [execPath, stat.dev, stat.ino, stat.size, stat.mtimeMs, stat.ctimeMs].join("\0");
  return path.join(dir, `binary-${createHash("sha256").update(identity).digest("hex").slice(0, 16)}.json`);
}

async function pack(cacheDir: string, execPath: string, arch: RuntimeArch): Promise<NodeRuntimeFile> {
  const dir = path.join(cacheDir, "node-runtime");
  fs.mkdirSync(dir, { recursive: true });
  const described = { nodeVersion: process.version, arch };
  const remembered = identityFile(dir, execPath, fs.statSync(execPath));
  const rememberedName = (readJsonFile(remembered) as { name?: unknown } | undefined)?.name;
  const known = typeof rememberedName === "string" ? builtPack(dir, rememberedName) : undefined;
  if (known) return { ...known, ...described };
  const binarySha = await sha256File(execPath);
  // A binary replaced while it was read is not remembered under its old identity.
  const remember = identityFile(dir, execPath, fs.statSync(execPath)) === remembered ? (name: string) => publishFile(remembered, `${JSON.stringify({ name })}\n`) : () => undefined;
  const name = `node-${process.version}-linux-${arch}-${binarySha.slice(0, 16)}`;
  const file = path.join(dir, `${name}.tar.gz`);
  const recordFile = path.join(dir, `${name}.json`);
  const cached = builtPack(dir, name);
  if (cached) {
    remember(name);
    return { ...cached, ...described };
  }
  const temporary = temporaryBeside(file);
  try {
    const written = await writeTarGz(
      [
        { kind: "dir", name: "bin" },
        { kind: "file", name: "bin/node", mode: 0o755, path: execPath },
      ],
      temporary,
      RUNTIME_GZIP_LEVEL,
    );
    fs.renameSync(temporary, file);
    publishFile(recordFile, `${JSON.stringify(written)}\n`);
    remember(name);
    return { file, ...written, ...described };
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

const packs = singleFlight<NodeRuntimeFile>();
/** Per binary (path, size, change time): its sha256 is read once per process, not per request. */
const packed = new Map<string, NodeRuntimeFile>();

/** This process's Node, packed for a Linux node of the same CPU; undefined when it cannot serve one. */
export async function nodeRuntimeArtifact(options: { cacheDir: string }): Promise<NodeRuntimeFile | undefined> {
  const arch = RuntimeArch.safeParse(process.arch);
  if (process.platform !== "linux" || !arch.success) return undefined;
  const stat = fs.statSync(process.execPath);
  const key = `${options.cacheDir}\0${process.execPath}\0${stat.size}\0${stat.ctimeMs}`;
  const known = packed.get(key);
  if (known && fs.existsSync(known.file)) return known;
  const runtime = await packs(key, () => pack(options.cacheDir, process.execPath, arch.data));
  packed.set(key, runtime);
  return runtime;
}
