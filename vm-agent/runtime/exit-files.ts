/**
 * How an agent is launched and how its exit code survives the vm-agent: a fixed shell wrapper
 * loads the agent's environment from a file only the daemon's user can read (env-file.ts; it
 * deletes the file), runs the agent, and writes its exit code atomically to
 * `<dir>/<session>.<generation>`, which the coordinator reads. The environment (model keys
 * included) is thus in no argument list and not in the tmux server's or session's environment.
 * The wrapper stays the pane's process (no `exec`) because it must outlive the agent to record the
 * code (an interrupt, SIGINT to the pane's group, does not end it); tmux makes it a process-group
 * leader, so stopping kills the agent with it (killGroup). Its argument list (world-readable in
 * /proc/<pid>/cmdline, as the agent's is) holds the environment file's path, the agent's binary
 * and its fixed flags: never a prompt, a key or a token. A prompt reaches the agent as its
 * standard input, from a file the launcher opens and deletes.
 */
import fs from "node:fs";
import { insideNamespace } from "../egress/forwarder";
import { SETPRIV } from "../users";
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
   * The command tmux runs: a fixed script; the environment file, the agent's binary and its
   * arguments arrive as positional parameters, so nothing from the task is ever parsed by a shell
   * (the file's values are quoted). The file must set ACP_LOG and ACP_EXIT; when it sets ACP_STDIN,
   * that file becomes the agent's standard input and is deleted once open. With a `user`, the
   * launcher (the daemon's user: it reads the files, writes the log and the exit code) runs the
   * agent through setpriv as that user, without other groups or any way to gain privileges; with a
   * `namespace` as well, in the workspace's network namespace (nsenter, root, joins it first).
   */
  static wrap(envFile: string, binary: string, args: string[], user?: { uid: number; gid: number }, namespace?: string): string[] {
    // The launcher runs as the daemon's user (root) after it loaded the agent's environment, PATH
    // included: the programs it runs itself are named by their full path, never looked up in it.
    const stdin = 'if [ -n "${ACP_STDIN:-}" ]; then exec <"$ACP_STDIN" || exit 127; /bin/rm -f -- "$ACP_STDIN"; fi; unset ACP_STDIN';
    const load = `set -a; . "$1" || exit 127; set +a; /bin/rm -f -- "$1"; shift; ${stdin}`;
    // An interrupt (C-c in the pane) reaches its whole process group: the launcher outlives it to
    // record the agent's exit code. A trapped signal, unlike an ignored one, is the default again
    // in what the launcher execs, so the agent gets its SIGINT as it would at a terminal.
    const script = `trap : INT; ${load}; "$@" >>"$ACP_LOG" 2>&1; code=$?; printf "%s" "$code" >"$ACP_EXIT.tmp" && /bin/mv "$ACP_EXIT.tmp" "$ACP_EXIT"`;
    if (user && namespace) return ["/bin/sh", "-c", script, "acp-agent", envFile, ...insideNamespace(namespace, user, [binary, ...args])];
    const drop = user ? [SETPRIV, `--reuid=${user.uid}`, `--regid=${user.gid}`, "--clear-groups", "--no-new-privs", "--"] : [];
    return ["/bin/sh", "-c", script, "acp-agent", envFile, ...drop, binary, ...args];
  }
}
