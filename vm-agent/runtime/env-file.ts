/**
 * The agent's environment travels in a file, not in tmux: `tmux new-session -e` would put every
 * value in the tmux client's argument list and the session's environment (`show-environment`).
 * The file is owner-only, lives in the workspace's private folder (outside the worktree) and is
 * deleted by the launcher as soon as it has loaded it (runtime/exit-files.ts).
 */
import fs from "node:fs";

/** One word for a POSIX shell: single quotes, each `'` written as `'\''`; nothing inside is expanded. */
export const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A fresh owner-only file (mode 0600) with `content`: whatever was at the path goes first, and the
 * file is created exclusively, so a link left there is never followed.
 */
export function writePrivateFile(file: string, content: string): string {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, content, { mode: 0o600, flag: "wx" });
  return file;
}

/** Writes `NAME='value'` lines for the launcher's `.` (a fresh file, mode 0600); returns its path. */
export function writeEnvFile(file: string, env: Record<string, string>): string {
  const lines = Object.entries(env).map(([name, value]) => {
    if (!NAME.test(name)) throw new Error(`not an environment variable name: ${name}`);
    // The shell cannot carry NUL in a value; the contract refuses it, this keeps it refused.
    if (value.includes("\0")) throw new Error(`environment variable ${name} contains NUL`);
    return `${name}=${shellQuote(value)}`;
  });
  return writePrivateFile(file, `${lines.join("\n")}\n`);
}
