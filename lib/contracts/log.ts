/**
 * The one shape of a log, for the control plane (lib/log.ts) and the vm-agent (vm-agent/log.ts):
 * levels, one JSON object per line (`time`, `level`, `msg`, then the fields), and child loggers that
 * put the ids a line concerns (node, workspace, session, task) on every line they write. Where the
 * lines go (stderr, stdout, a rotating file) is each side's sink.
 */
export const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, unknown>;
export type LogEntry = { level: LogLevel; msg: string; fields: LogFields };
/** Where a logger's entries go; it never throws back into the code that logs. */
export type LogSink = (entry: LogEntry) => void;

export type Logger = {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (the ids of what it concerns); a line's own fields win. */
  child(fields: LogFields): Logger;
};

/**
 * A logger writing entries at `level` and above to `sink`, each with `fields` (bound ids) before its
 * own. The default level is `info`.
 */
export function createLogger(sink: LogSink, options: { level?: LogLevel; fields?: LogFields } = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? "info");
  const bound = options.fields ?? {};
  const at =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}) => {
      if (LOG_LEVELS.indexOf(level) >= threshold) sink({ level, msg, fields: { ...bound, ...fields } });
    };
  return {
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (fields) => createLogger(sink, { level: options.level, fields: { ...bound, ...fields } }),
  };
}

/** The entry as one line of JSON, newline included. */
export function jsonLine({ level, msg, fields }: LogEntry, time = new Date()): string {
  return `${JSON.stringify({ time: time.toISOString(), level, msg, ...fields })}\n`;
}

/** A sink writing JSON lines through `write` (a stream's, a file's). */
export const jsonLines =
  (write: (text: string) => void): LogSink =>
  (entry) =>
    write(jsonLine(entry));

/** Writes nothing (tests that do not look at the log). */
export const silentLogger: Logger = createLogger(() => undefined);
