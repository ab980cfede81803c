/**
 * tmux on the vm-agent's own socket. Every call gets a clean environment, so the tmux server (and
 * every session it starts) never inherits the vm-agent's tokens. Commands after `--` are executed
 * directly by tmux, never through a shell.
 */
import fs from "node:fs";
import path from "node:path";
import type { InheritedEnvironment } from "../config";
import { ExecError, run } from "../exec";

export const OWNER_OPTION = "@acp-owner";
export const GENERATION_OPTION = "@acp-generation";
/** Tries of a `new-session` that met a server on its way out (see createOnLiveServer). */
const SERVER_EXIT_RETRIES = 5;

export type TmuxSession = { name: string; owner: string; generation: string; panePid: number };

/** What tmux (and so its server and every session) sees: these few of the daemon's variables, nothing secret. */
const cleanEnvironment = (inherited: InheritedEnvironment): Record<string, string> => ({
  PATH: inherited.PATH ?? "/usr/local/bin:/usr/bin:/bin",
  HOME: inherited.HOME ?? "/tmp",
  LANG: inherited.LANG ?? "C.UTF-8",
  TERM: "xterm-256color",
  ...(inherited.TMUX_TMPDIR ? { TMUX_TMPDIR: inherited.TMUX_TMPDIR } : {}),
});

export class Tmux {
  private readonly env: Record<string, string>;

  /** `inherited`: the daemon's environment (config.ts), of which tmux gets a clean part. */
  constructor(
    readonly socket: string,
    private readonly inherited: InheritedEnvironment,
  ) {
    this.env = cleanEnvironment(inherited);
  }

  private tmux(args: string[], check = true) {
    return run("tmux", ["-L", this.socket, ...args], { env: this.env, check, timeoutMs: 10_000 });
  }

  /**
   * Session creation is serialised per socket: when no server runs yet, concurrent `new-session`
   * calls each try to start one and some fail ("server exited unexpectedly"). It takes milliseconds.
   */
  private creating: Promise<unknown> = Promise.resolve();

  /** The command gets the server's clean environment; anything more is the command's own business (exit-files.ts). */
  async newSession(opts: { name: string; cwd: string; command: string[] }) {
    const args = ["new-session", "-d", "-s", opts.name, "-c", opts.cwd, "-x", "200", "-y", "50", "--", ...opts.command];
    const create = this.creating.catch(() => undefined).then(() => this.createOnLiveServer(args));
    this.creating = create;
    await create;
  }

  /**
   * Killing the last session makes the server exit; a `new-session` that connects while it is
   * exiting fails with "server exited unexpectedly" and created nothing. The next try starts a
   * fresh server, so that one failure is retried (a few times); every other failure is thrown.
   */
  private async createOnLiveServer(args: string[]) {
    for (let attempt = 1; ; attempt++) {
      const result = await this.tmux(args, false);
      if (result.code === 0) return;
      const exiting = /server exited unexpectedly|lost server/.test(result.stderr);
      if (!exiting || attempt >= SERVER_EXIT_RETRIES) throw new ExecError(`tmux -L ${this.socket} new-session`, result);
    }
  }

  async setOption(name: string, option: string, value: string) {
    await this.tmux(["set-option", "-t", `=${name}:`, option, value]);
  }

  async hasSession(name: string): Promise<boolean> {
    return (await this.tmux(["has-session", "-t", `=${name}`], false)).code === 0;
  }

  /** Every session on our socket; none when the server is not running. */
  async list(): Promise<TmuxSession[]> {
    const result = await this.tmux(["list-sessions", "-F", `#{session_name}\t#{${OWNER_OPTION}}\t#{${GENERATION_OPTION}}\t#{pane_pid}`], false);
    if (result.code !== 0) return [];
    return result.stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [name = "", owner = "", generation = "", pid = "0"] = line.split("\t");
        return { name, owner, generation, panePid: Number(pid) };
      });
  }

  async panePid(name: string): Promise<number | undefined> {
    const result = await this.tmux(["display-message", "-p", "-t", `=${name}:`, "#{pane_pid}"], false);
    const pid = Number(result.stdout.trim());
    return result.code === 0 && pid > 0 ? pid : undefined;
  }

  async interrupt(name: string) {
    await this.tmux(["send-keys", "-t", `=${name}:`, "C-c"], false);
  }

  /** Ends the tmux server of this socket and every session on it (tests, node teardown). */
  async killServer() {
    await this.tmux(["kill-server"], false);
    const dir = path.join(this.inherited.TMUX_TMPDIR ?? "/tmp", `tmux-${process.getuid?.() ?? 0}`);
    fs.rmSync(path.join(dir, this.socket), { force: true });
  }

  /** Kills the session; a session that is already gone counts as killed. */
  async killSession(name: string) {
    await this.tmux(["kill-session", "-t", `=${name}`], false);
  }
}
