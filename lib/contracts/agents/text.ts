/** Small text helpers for turning CLI events into one-line summaries and clipped details. */

/** How much of a tool's input or result the page keeps; the download has all of it. */
export const DETAIL_MAX_CHARS = 8_000;

export function clip(text: string, max = DETAIL_MAX_CHARS): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n… ${(text.length - max).toLocaleString("en")} more characters (the download has them all)`;
}

/** A value as readable text: strings as they are, anything else as indented JSON. */
export function asText(value: unknown): string {
  if (typeof value === "string") return value;
  if (value === undefined) return "";
  return JSON.stringify(value, null, 2) ?? String(value);
}

/** The first line, with a mark when more followed. */
export function firstLine(text: string): string {
  const trimmed = text.trim();
  const end = trimmed.indexOf("\n");
  return end === -1 ? trimmed : `${trimmed.slice(0, end)} …`;
}

/** Input keys that say what a call acts on, most telling first; the file ones are paths. */
const FILE_KEYS = ["file_path", "notebook_path", "path"] as const;
// A pattern before a path: Grep's and Glob's `path` is only where they look.
const SUBJECT_KEYS = ["command", "cmd", "file_path", "notebook_path", "pattern", "path", "url", "query", "description", "prompt"] as const;

/** What a call acts on, from its input: its command, its file, or its first string argument. */
export function subjectOf(input: unknown): { subject: string; subjectIsFile: boolean } {
  if (typeof input === "string") return { subject: firstLine(input), subjectIsFile: false };
  if (!input || typeof input !== "object") return { subject: "", subjectIsFile: false };
  const record = input as Record<string, unknown>;
  for (const key of SUBJECT_KEYS) {
    const value = record[key];
    if (typeof value === "string" && value.trim()) return { subject: firstLine(value), subjectIsFile: (FILE_KEYS as readonly string[]).includes(key) };
    // Codex's exec_command takes its command as an argv array.
    if (Array.isArray(value) && value.every((v) => typeof v === "string")) return { subject: value.join(" "), subjectIsFile: false };
  }
  const first = Object.values(record).find((v): v is string => typeof v === "string" && v.trim() !== "");
  return { subject: first ? firstLine(first) : "", subjectIsFile: false };
}

/**
 * The command a shell wrapper runs: Codex reports `/bin/bash -lc 'ls src'`, a person wants `ls src`.
 * Anything that is not exactly one quoted argument to `sh -c` / `bash -lc` is left as it is.
 */
export function unwrapShell(command: string): string {
  const match = /^(?:\/(?:usr\/)?bin\/)?(?:ba|z)?sh -l?c (['"])([\s\S]*)\1$/.exec(command.trim());
  if (!match) return command;
  const [, quote, body = ""] = match;
  if (quote === "'") {
    // Inside single quotes a quote is written '\'' ; any other quote means it was not one argument.
    const unescaped = body.replaceAll("'\\''", "\u0000");
    return unescaped.includes("'") ? command : unescaped.replaceAll("\u0000", "'");
  }
  if (/(^|[^\\])"/.test(body)) return command;
  return body.replace(/\\([\\"$`])/g, "$1");
}
