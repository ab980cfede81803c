/**
 * A gzipped tar archive written the same way every time: entries in the order given, owner 0:0,
 * modification time 0, fixed modes, so the same files give the same bytes (and the same sha256).
 * Plain ustar, which every `tar -xzf` reads; streamed, so a 100 MB Node binary is never held whole.
 */
import { createHash } from "node:crypto";
import fs from "node:fs";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import zlib from "node:zlib";

export type TarEntry =
  | { kind: "dir"; name: string }
  | { kind: "file"; name: string; mode: 0o644 | 0o755; content: Buffer }
  /** A file read from disk as the archive is written. */
  | { kind: "file"; name: string; mode: 0o644 | 0o755; path: string };

const BLOCK = 512;

function octal(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, "0") + "\0";
}

function header(name: string, mode: number, size: number, type: "0" | "5"): Buffer {
  // Longer names need a ustar prefix split or a pax header; ours are short and fixed.
  if (Buffer.byteLength(name) > 100 || !/^[A-Za-z0-9._/-]+$/.test(name)) throw new Error(`tar entry name ${JSON.stringify(name)} is not a short plain path`);
  const block = Buffer.alloc(BLOCK);
  block.write(name, 0, 100, "ascii");
  block.write(octal(mode, 8), 100, "ascii");
  block.write(octal(0, 8), 108, "ascii"); // uid
  block.write(octal(0, 8), 116, "ascii"); // gid
  block.write(octal(size, 12), 124, "ascii");
  block.write(octal(0, 12), 136, "ascii"); // mtime
  block.write("        ", 148, "ascii"); // the checksum counts itself as spaces
  block.write(type, 156, "ascii");
  block.write("ustar\0", 257, "ascii");
  block.write("00", 263, "ascii");
  block.write("root", 265, "ascii");
  block.write("root", 297, "ascii");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(octal(sum, 7) + " ", 148, "ascii");
  return block;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

async function* tarBlocks(entries: TarEntry[]): AsyncGenerator<Buffer> {
  for (const entry of entries) {
    if (entry.kind === "dir") {
      yield header(entry.name.endsWith("/") ? entry.name : `${entry.name}/`, 0o755, 0, "5");
      continue;
    }
    if ("content" in entry) {
      yield header(entry.name, entry.mode, entry.content.length, "0");
      yield entry.content;
      yield padding(entry.content.length);
      continue;
    }
    const size = fs.statSync(entry.path).size;
    yield header(entry.name, entry.mode, size, "0");
    let read = 0;
    for await (const chunk of fs.createReadStream(entry.path)) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (read !== size) throw new Error(`${entry.path} changed while it was archived`);
    yield padding(size);
  }
  yield Buffer.alloc(2 * BLOCK);
}

/** Writes the archive to `file` and answers its sha256 (hex) and size. */
export async function writeTarGz(entries: TarEntry[], file: string, level: number): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  const measure = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(Readable.from(tarBlocks(entries)), zlib.createGzip({ level }), measure, fs.createWriteStream(file, { mode: 0o644 }));
  return { sha256: hash.digest("hex"), bytes };
}
