/**
 * Cuts an agent's log into output batches, working in bytes: a batch covers the byte range
 * [offset, end) of the log, offsets advance by the bytes consumed, and text exists only per line
 * (decoded with replacement characters, so invalid UTF-8 or a character cut at a read edge never
 * shifts an offset). A batch is a pure function of its byte range: rebuilt after a restart from the
 * same range, it is the same batch, so the control plane's dedup by offset loses nothing.
 *
 * Limits, from the contract (AgentOutputCallback): a line holds at most 100,000 characters, and it
 * is also held to MAX_LINE_BYTES, so one line cannot fill a batch; a longer one keeps its head and
 * ends in a marker naming its whole length, and the rest of its bytes are skipped up to its newline
 * (so a cut line is shipped only once that newline is there and its length known). A batch holds
 * at most 5,000 lines and about MAX_BATCH_BYTES of text. NUL becomes U+2400 (␀): Postgres jsonb
 * cannot store U+0000.
 */
import fs from "node:fs";

export const MAX_LINE_CHARS = 100_000;
export const MAX_LINE_BYTES = 128 * 1024;
export const MAX_BATCH_LINES = 5_000;
export const MAX_BATCH_BYTES = 256 * 1024;
/** What is kept of a line to make its text: three bytes more, to see whether MAX_LINE_BYTES ends inside a character. */
const HEAD_BYTES = MAX_LINE_BYTES + 3;
/** Larger than HEAD_BYTES, so one read holds the whole head of any line. */
const READ_SIZE = 256 * 1024;
const NEWLINE = 0x0a;

/** One line of the log: its first bytes (at most HEAD_BYTES), its whole length, where the next begins. */
type RawLine = { head: Buffer; length: number; next: number };

/** Where the newline of an unfinished line at `start` was already looked for, so it is not looked for again. */
export type Unfinished = { start: number; scannedTo: number };

export type Batch = { lines: string[]; end: number };

/** The largest length ≤ n that does not end inside a UTF-8 character of `bytes`. */
function utf8Boundary(bytes: Buffer, n: number): number {
  if (n >= bytes.length) return bytes.length;
  let at = n;
  // Continuation bytes are 10xxxxxx; a character has at most three of them.
  while (at > 0 && n - at < 3 && (bytes[at]! & 0xc0) === 0x80) at--;
  return at;
}

/** The text of one line: decoded, NUL made visible, and cut (with a marker) when it is too long. */
export function lineText(head: Buffer, length: number): string {
  const whole = head.length === length;
  // A head that is not the whole line ends at a character's start, not inside one.
  const text = head.subarray(0, whole ? head.length : utf8Boundary(head, MAX_LINE_BYTES)).toString("utf8").replaceAll("\u0000", "\u2400");
  if (whole && text.length <= MAX_LINE_CHARS && Buffer.byteLength(text) <= MAX_LINE_BYTES) return text;
  const marker = ` … [line cut: ${length} bytes]`;
  let kept = text.slice(0, MAX_LINE_CHARS - marker.length);
  // Never half a surrogate pair: that would be a lone surrogate, which Postgres refuses too.
  if (/[\ud800-\udbff]$/.test(kept)) kept = kept.slice(0, -1);
  const budget = MAX_LINE_BYTES - Buffer.byteLength(marker);
  if (Buffer.byteLength(kept) > budget) {
    const bytes = Buffer.from(kept);
    kept = bytes.subarray(0, utf8Boundary(bytes, budget)).toString("utf8");
  }
  return kept + marker;
}

/** A window of the log read from disk, up to `limit` (the file's size when the flush began). */
class LogWindow {
  private readonly buffer: Buffer;
  private start = 0;
  private size = 0;

  constructor(
    private readonly fd: number,
    from: number,
    private limit: number,
  ) {
    this.buffer = Buffer.alloc(Math.max(1, Math.min(READ_SIZE, limit - from)));
  }

  private fill(from: number) {
    this.start = from;
    this.size = fs.readSync(this.fd, this.buffer, 0, Math.min(this.buffer.length, this.limit - from), from);
    // A file that shrank (nothing of ours truncates it, but an operator might) ends here.
    if (this.size < Math.min(this.buffer.length, this.limit - from)) this.limit = from + this.size;
  }

  private get end() {
    return this.start + this.size;
  }

  private newline(from: number): number {
    const at = this.buffer.subarray(0, this.size).indexOf(NEWLINE, from - this.start);
    return at < 0 ? -1 : this.start + at;
  }

  private head(pos: number, until: number) {
    return Buffer.from(this.buffer.subarray(pos - this.start, Math.min(until, pos + HEAD_BYTES) - this.start));
  }

  /** The line at `pos`; undefined when its newline is not there yet (unless `final`: then it ends at the limit). */
  line(pos: number, final: boolean, unfinished: Unfinished | undefined): RawLine | undefined {
    if (pos >= this.limit) return undefined;
    if (pos < this.start || pos >= this.end) this.fill(pos);
    let at = this.newline(pos);
    // A line that crosses the window's edge: read again from its start.
    if (at < 0 && pos > this.start && this.end < this.limit) {
      this.fill(pos);
      at = this.newline(pos);
    }
    if (at >= 0) return { head: this.head(pos, at), length: at - pos, next: at + 1 };
    const head = this.head(pos, this.end);
    // Longer than a window: look for its newline further on, past what an earlier flush searched.
    let from = unfinished?.start === pos ? Math.max(this.end, unfinished.scannedTo) : this.end;
    while (from < this.limit) {
      this.fill(from);
      if (this.size === 0) break;
      at = this.newline(from);
      if (at >= 0) return { head, length: at - pos, next: at + 1 };
      from = this.end;
    }
    return final ? { head, length: this.limit - pos, next: this.limit } : undefined;
  }

  get scannedTo() {
    return this.limit;
  }
}

/**
 * The next batch of the log from `from`, reading up to `limit`; undefined when no complete line is
 * there. `final` ships a last line without its newline too. `unfinished` is what the previous call
 * left in `result.unfinished`.
 */
export function readBatch(fd: number, from: number, limit: number, final: boolean, unfinished?: Unfinished): { batch?: Batch; unfinished?: Unfinished } {
  const window = new LogWindow(fd, from, limit);
  const lines: string[] = [];
  let bytes = 0;
  let pos = from;
  while (pos < limit && lines.length < MAX_BATCH_LINES) {
    const raw = window.line(pos, final, unfinished);
    if (!raw) return { ...(lines.length ? { batch: { lines, end: pos } } : {}), unfinished: { start: pos, scannedTo: window.scannedTo } };
    const text = lineText(raw.head, raw.length);
    const size = Buffer.byteLength(text);
    if (lines.length > 0 && bytes + size > MAX_BATCH_BYTES) break;
    lines.push(text);
    bytes += size;
    pos = raw.next;
  }
  return lines.length ? { batch: { lines, end: pos } } : {};
}
