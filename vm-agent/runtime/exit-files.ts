/**
 * How an agent's exit code survives the vm-agent: a fixed shell wrapper runs the agent and writes
 * its exit code atomically to `<dir>/<session>.<generation>`, which the coordinator reads.
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
  }

  /**
   * The command tmux runs: a fixed script; the agent's binary and arguments arrive as positional
   * parameters, so nothing from the task is ever parsed by a shell. Needs $ACP_LOG and $ACP_EXIT.
   */
  static wrap(binary: string, args: string[]): string[] {
    const script = '"$@" >>"$ACP_LOG" 2>&1; code=$?; printf "%s" "$code" >"$ACP_EXIT.tmp" && mv "$ACP_EXIT.tmp" "$ACP_EXIT"';
    return ["/bin/sh", "-c", script, "acp-agent", binary, ...args];
  }
}
