/**
 * The daemon's own log: one JSON object per line (lib/contracts/log.ts: levels, child loggers whose
 * lines carry the node, workspace, session and task ids), what an operator greps and a log shipper
 * reads. On stdout by default; with VM_AGENT_LOG_FILE in a file the daemon rotates itself, since
 * nothing else bounds it on a node (the local provider only opens it in append mode for the child).
 */
import fs from "node:fs";
import path from "node:path";
import { createLogger, jsonLine, jsonLines, type Logger, type LogLevel, type LogSink } from "../lib/contracts/log";

export { createLogger, silentLogger, type Logger, type LogEntry, type LogFields, type LogLevel, type LogSink } from "../lib/contracts/log";

export const stdoutSink: LogSink = jsonLines((text) => process.stdout.write(text));

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

/** Lines into a rotating file; a line the file refuses (disk full) goes to stderr rather than nowhere. */
export function fileSink(file: RotatingFile): LogSink {
  return (entry) => {
    const text = jsonLine(entry);
    try {
      file.write(text);
    } catch {
      process.stderr.write(text);
    }
  };
}

/** The daemon's logger as configured: into VM_AGENT_LOG_FILE (rotated) or stdout, every line with the node's id. */
export function daemonLogger(settings: {
  NODE_ID: string;
  VM_AGENT_LOG_LEVEL: LogLevel;
  VM_AGENT_LOG_FILE?: string;
  VM_AGENT_LOG_MAX_BYTES: number;
  VM_AGENT_LOG_KEEP: number;
}): Logger {
  const sink = settings.VM_AGENT_LOG_FILE ? fileSink(new RotatingFile(settings.VM_AGENT_LOG_FILE, settings.VM_AGENT_LOG_MAX_BYTES, settings.VM_AGENT_LOG_KEEP)) : stdoutSink;
  return createLogger(sink, { level: settings.VM_AGENT_LOG_LEVEL, fields: { nodeId: settings.NODE_ID } });
}
