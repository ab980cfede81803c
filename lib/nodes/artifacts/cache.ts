/**
 * Where built downloads are kept: `<cache>/agent-control-plane/` (XDG_CACHE_HOME, else
 * ~/.cache), beside the Inngest server build, or VM_AGENT_CACHE_DIR. A file is published by a
 * rename, so a reader (another request, another process) sees a whole file or none.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A file built for nodes to download, with what they check it by. */
export type BuiltFile = { file: string; sha256: string; bytes: number };

export function defaultArtifactCacheDir(env: Record<string, string | undefined> = process.env): string {
  const base = env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
  return path.join(base, "agent-control-plane");
}

/** A temporary name beside `file`, unique to this call. */
export const temporaryBeside = (file: string) => `${file}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;

/** Writes `content` to `file` through a temporary file and a rename. */
export function publishFile(file: string, content: string | Buffer) {
  const temporary = temporaryBeside(file);
  fs.writeFileSync(temporary, content, { mode: 0o644 });
  fs.renameSync(temporary, file);
}

export function readJsonFile(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/** A cached build: `file` with its record (`{sha256, bytes}`, written after it), when both are there and agree on the size. */
export function readBuiltFile(file: string, recordFile: string): BuiltFile | undefined {
  const record = readJsonFile(recordFile) as { sha256?: unknown; bytes?: unknown } | undefined;
  if (typeof record?.sha256 !== "string" || typeof record.bytes !== "number") return undefined;
  try {
    return fs.statSync(file).size === record.bytes ? { file, sha256: record.sha256, bytes: record.bytes } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One build at a time per key in this process: concurrent callers share the pending promise,
 * and a failed build is not remembered.
 */
export function singleFlight<T>() {
  const pending = new Map<string, Promise<T>>();
  return (key: string, build: () => Promise<T>): Promise<T> => {
    const running = pending.get(key);
    if (running) return running;
    const started = build().finally(() => pending.delete(key));
    pending.set(key, started);
    return started;
  };
}
