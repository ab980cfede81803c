/**
 * The daemon's own log: one JSON object per line, what an operator greps and a log shipper reads.
 * On stdout by default; with VM_AGENT_LOG_FILE in a file the daemon rotates itself, since nothing
 * else bounds it on a node (the local provider only opens it in append mode for the child).
 */
import fs from "node:fs";
import path from "node:path";

export type Log = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

const line = (level: string, msg: string, fields: Record<string, unknown>) =>
  `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`;

export const jsonLog: Log = (level, msg, fields = {}) => {
  process.stdout.write(line(level, msg, fields));
};

export const silentLog: Log = () => undefined;

/**
 * An append-only file that becomes `<file>.1` when the next write would take it past `maxBytes`
 * (the older ones move up to `<file>.<keep>`, the oldest is removed). Writes are synchronous appends,
 * so a line is on disk before the daemon goes on, and a crash right after loses nothing; the size is
 * counted here rather than asked of the file system on every write.
 */
export class RotatingFile {
  private fd: number | undefined;
  private size = 0;

  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {}

  write(text: string) {
    const data = Buffer.from(text);
    if (this.fd === undefined) this.open();
    // A line longer than the limit still goes whole, in a file of its own.
    if (this.size > 0 && this.size + data.length > this.maxBytes) this.rotate();
    fs.writeSync(this.fd!, data);
    this.size += data.length;
  }

  close() {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }

  private open() {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.fd = fs.openSync(this.file, "a");
    // A restarted daemon appends to what the last one left, and counts it.
    this.size = fs.fstatSync(this.fd).size;
  }

  private rotate() {
    this.close();
    fs.rmSync(this.keep > 0 ? `${this.file}.${this.keep}` : this.file, { force: true });
    for (let n = this.keep - 1; n >= 1; n--) {
      if (fs.existsSync(`${this.file}.${n}`)) fs.renameSync(`${this.file}.${n}`, `${this.file}.${n + 1}`);
    }
    if (this.keep > 0 && fs.existsSync(this.file)) fs.renameSync(this.file, `${this.file}.1`);
    this.open();
  }
}

/** A log into a rotating file; a line the file refuses (disk full) goes to stderr rather than nowhere. */
export function fileLog(file: RotatingFile): Log {
  return (level, msg, fields = {}) => {
    const text = line(level, msg, fields);
    try {
      file.write(text);
    } catch {
      process.stderr.write(text);
    }
  };
}
