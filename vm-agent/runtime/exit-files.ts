/**
 * How an agent is launched and how its exit code survives the vm-agent: a fixed shell wrapper
 * loads the agent's environment from a file only the daemon's user can read (and deletes it), runs
 * the agent, and writes its exit code atomically to `<dir>/<session>.<generation>`, which the
 * coordinator reads. The environment (model keys included) is thus in no argument list and not in
 * the tmux server's or session's environment.
 */
import fs from "node:fs";
import path from "node:path";

type Generation = { sessionId: string; generation: number };

export class ExitFiles {
  constructor(readonly dir: string) {
    fs.mkdirSync(dir, { recursive: true });
  }

  file(record: Generation) {
    return path.join(this.dir, `${record.sessionId}.${record.generation}`);
  }

  /** The recorded exit code; null when the file is empty, undefined when there is none yet. */
  read(record: Generation): number | null | undefined {
    try {
      const text = fs.readFileSync(this.file(record), "utf8").trim();
      return text === "" ? null : Number(text);
    } catch {
      return undefined;
    }
  }

  remove(record: Generation) {
    fs.rmSync(this.file(record), { force: true });
    fs.rmSync(this.envFile(record), { force: true });
  }

  /** Where the launch's environment waits for the wrapper (which deletes it once read). */
  envFile(record: Generation) {
    return `${this.file(record)}.env`;
  }

  /** Writes the environment file: owner-only, every value single-quoted for the wrapper's `.`. */
  writeEnv(record: Generation, env: Record<string, string>) {
    const lines = Object.entries(env).map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`not an environment variable name: ${name}`);
      return `${name}='${value.replaceAll("'", `'\\''`)}'`;
    });
    const file = this.envFile(record);
    fs.rmSync(file, { force: true });
    fs.writeFileSync(file, `${lines.join("\n")}\n`, { mode: 0o600, flag: "wx" });
    return file;
  }

  /**
   * The command tmux runs: a fixed script; the environment file, the agent's binary and its
   * arguments arrive as positional parameters, so nothing from the task is ever parsed by a shell
   * (the file's values are quoted). The file must set ACP_LOG and ACP_EXIT.
   */
  static wrap(envFile: string, binary: string, args: string[]): string[] {
    const load = 'set -a; . "$1" || exit 127; set +a; rm -f -- "$1"; shift';
    const script = `${load}; "$@" >>"$ACP_LOG" 2>&1; code=$?; printf "%s" "$code" >"$ACP_EXIT.tmp" && mv "$ACP_EXIT.tmp" "$ACP_EXIT"`;
    return ["/bin/sh", "-c", script, "acp-agent", envFile, binary, ...args];
  }
}
