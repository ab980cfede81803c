/**
 * Durable records on the node: one JSON file per record, written atomically (temp file, fsync,
 * rename, fsync of the folder), so a `kill -9` at any moment leaves either the old record or the
 * new one, never a torn one. Plain files, not an embedded database: no native module to install
 * on a node, and every record is independent, so there is nothing to lock across records.
 */
import fs from "node:fs";
import path from "node:path";
import type { z } from "zod";

/** `mode` is the new file's from its creation on (0o600 for a file holding secrets). */
export function writeFileAtomic(file: string, content: string, mode = 0o666) {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, "w", mode);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  const dirFd = fs.openSync(dir, "r");
  try {
    fs.fsyncSync(dirFd);
  } finally {
    fs.closeSync(dirFd);
  }
}

const SAFE_KEY = /^[A-Za-z0-9_.:-]{1,200}$/;

export class RecordStore<S extends z.ZodType> {
  /** With `ownerOnly`, the folder is 0700 and every record 0600 (records that hold secrets). */
  constructor(
    readonly dir: string,
    private readonly schema: S,
    private readonly options: { ownerOnly?: boolean } = {},
  ) {
    fs.mkdirSync(dir, { recursive: true, ...(options.ownerOnly ? { mode: 0o700 } : {}) });
    if (options.ownerOnly) fs.chmodSync(dir, 0o700);
    // Temp files of writes that a crash interrupted are garbage; the record they replaced stands.
    for (const name of fs.readdirSync(dir)) if (name.endsWith(".tmp")) fs.rmSync(path.join(dir, name), { force: true });
  }

  /** The record's file (a key that could leave the folder is refused). */
  file(key: string) {
    if (!SAFE_KEY.test(key)) throw new Error(`unsafe record key: ${key}`);
    return path.join(this.dir, `${key}.json`);
  }

  get(key: string): z.infer<S> | undefined {
    try {
      return this.schema.parse(JSON.parse(fs.readFileSync(this.file(key), "utf8")));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
  }

  put(key: string, value: z.infer<S>) {
    writeFileAtomic(this.file(key), JSON.stringify(this.schema.parse(value), null, 2), this.options.ownerOnly ? 0o600 : 0o666);
  }

  delete(key: string) {
    fs.rmSync(this.file(key), { force: true });
  }

  keys(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((n) => n.endsWith(".json") && !n.startsWith("."))
      .map((n) => n.slice(0, -5))
      .sort();
  }

  list(): { key: string; value: z.infer<S> }[] {
    return this.keys().flatMap((key) => {
      const value = this.get(key);
      return value === undefined ? [] : [{ key, value }];
    });
  }
}
