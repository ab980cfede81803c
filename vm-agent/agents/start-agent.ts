/**
 * Starts an agent as its own process group in the worktree, so stopping it stops everything it
 * started. `script` runs the operator's command or the built-in script agent; the CLI agents come
 * with the tmux runtime in a later issue.
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import type { AgentKind } from "../../lib/contracts/vm-agent";

export type AgentExit = { code: number | null; signal: NodeJS.Signals | null; tail?: string; error?: string };

export type RunningAgent = {
  exited: Promise<AgentExit>;
  /** SIGTERM to the group, then SIGKILL after the grace period. */
  stop(graceMs: number): Promise<void>;
};

export type AgentOptions = { cwd: string; env: NodeJS.ProcessEnv; scriptCommand?: string; timeoutMs: number; logFile: string };

const BUILT_IN_SCRIPT_AGENT = fileURLToPath(new URL("./script-agent.mjs", import.meta.url));

function command(kind: AgentKind, scriptCommand: string | undefined): [string, string[]] | undefined {
  if (kind !== "script") return undefined;
  // The operator's command is trusted configuration; the prompt reaches it only as $AGENT_PROMPT.
  if (scriptCommand) return ["/bin/sh", ["-c", scriptCommand]];
  return [process.execPath, [BUILT_IN_SCRIPT_AGENT]];
}

export function startAgent(kind: AgentKind, options: AgentOptions): RunningAgent {
  const resolved = command(kind, options.scriptCommand);
  if (!resolved) {
    return {
      exited: Promise.resolve({ code: null, signal: null, error: `agent ${kind} is not installed on this node yet` }),
      stop: async () => undefined,
    };
  }
  const log = fs.openSync(options.logFile, "a");
  const child = spawn(resolved[0], resolved[1], { cwd: options.cwd, env: options.env, detached: true, stdio: ["ignore", log, log] });
  fs.closeSync(log);
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      // The group is already gone.
    }
  };
  const timeout = setTimeout(() => signalGroup("SIGKILL"), options.timeoutMs);
  const exited = new Promise<AgentExit>((resolve) => {
    child.once("error", (error) => resolve({ code: null, signal: null, error: `agent could not start: ${error.message}` }));
    child.once("exit", (code, signal) => {
      clearTimeout(timeout);
      let tail: string | undefined;
      try {
        tail = fs.readFileSync(options.logFile, "utf8").trim().split("\n").slice(-10).join("\n") || undefined;
      } catch {
        tail = undefined;
      }
      resolve({ code, signal, tail });
    });
  });
  return {
    exited,
    async stop(graceMs) {
      signalGroup("SIGTERM");
      const killer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
      await exited;
      clearTimeout(killer);
      // Children that outlived the shell still belong to the group.
      signalGroup("SIGKILL");
    },
  };
}
