/**
 * A repository's own checks, run after each turn once its commit is made: the task's list when its
 * submit gave one, else `.agent/checks.sh`, else package.json's `test` script (`npm test`). They
 * run as the workspace's user, in its network namespace (the same egress policy as its agent), with
 * the agent's environment but no secret, under CHECK_TIMEOUT for all of them together. Every
 * command runs, also after one fails, so the result lists every failure at once.
 */
import { CHECK_OUTPUT_TAIL, checkMarkerLine, type CheckCommandResult, type CheckSource, type TurnChecks } from "../lib/contracts/checks";
import { formatMs, run } from "./exec";
import type { EgressLaunch } from "./egress/network";
import { inside } from "./setup-command";
import { readFileAs, type FsUser } from "./workspace-fs";

export type CheckPlan = { source: CheckSource; commands: { command: string; file: string; args: string[] }[]; error?: string };

export const CHECKS_SCRIPT = ".agent/checks.sh";
/** What `npm init` writes as the test script: a placeholder that always fails, not a check. */
const NPM_PLACEHOLDER = /no test specified/;

/** The checks this turn runs, read as the workspace's user (a link out of the worktree counts as absent). */
export async function planChecks(worktree: string, requested: readonly string[] | undefined, user: FsUser): Promise<CheckPlan> {
  if (requested?.length) return { source: "task", commands: requested.map((command) => ({ command, file: "bash", args: ["-c", command] })) };
  const script = await inside(worktree, CHECKS_SCRIPT, user);
  if (script) return { source: CHECKS_SCRIPT, commands: [{ command: `bash ${CHECKS_SCRIPT}`, file: "bash", args: [script] }] };
  const manifest = await inside(worktree, "package.json", user);
  const text = manifest && (await readFileAs(user, manifest, 1024 * 1024));
  if (text === undefined) return { source: "none", commands: [] };
  let test: unknown;
  try {
    test = (JSON.parse(text) as { scripts?: Record<string, unknown> } | null)?.scripts?.test;
  } catch (error) {
    return { source: "package.json", commands: [], error: `package.json is not valid JSON: ${(error as Error).message}` };
  }
  if (typeof test !== "string" || !test.trim() || NPM_PLACEHOLDER.test(test)) return { source: "none", commands: [] };
  return { source: "package.json", commands: [{ command: "npm test", file: "npm", args: ["test"] }] };
}

export type CheckRunOptions = {
  worktree: string;
  env: Record<string, string | undefined>;
  user?: { uid: number; gid: number };
  network?: EgressLaunch;
  timeoutMs: number;
  /** Where each line of output goes as it comes, between each command's start and end markers. */
  writeLine: (line: string) => void;
  /** Stops the command running now (the workspace was stopped); the rest are not started. */
  signal?: AbortSignal;
  now?: () => number;
};

/** Splits chunks into whole lines for `writeLine`; `flush` ends a last line without its newline. */
function lineWriter(writeLine: (line: string) => void) {
  let partial = "";
  return {
    write(text: string) {
      const lines = (partial + text).split("\n");
      partial = lines.pop()!;
      for (const line of lines) writeLine(line);
    },
    flush() {
      if (partial) writeLine(partial);
      partial = "";
    },
  };
}

/** Runs the plan's commands in order and reports each; `passed` only when every one exited 0. */
export async function runChecks(plan: CheckPlan, options: CheckRunOptions): Promise<TurnChecks> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.timeoutMs;
  const results: CheckCommandResult[] = [];
  for (const [index, { command, file, args }] of plan.commands.entries()) {
    const left = deadline - now();
    if (options.signal?.aborted) {
      results.push({ command, exitCode: null, durationMs: 0, timedOut: false, outputTail: "not run: the workspace was stopped" });
      continue;
    }
    if (left <= 0) {
      results.push({ command, exitCode: null, durationMs: 0, timedOut: true, outputTail: `not run: the checks' time (CHECK_TIMEOUT, ${formatMs(options.timeoutMs)}) ran out before it` });
      continue;
    }
    options.writeLine(checkMarkerLine({ type: "acp.check", phase: "start", command, source: plan.source, index, of: plan.commands.length }));
    const lines = lineWriter(options.writeLine);
    let tail = "";
    const started = now();
    let exitCode: number | null = null;
    let timedOut = false;
    try {
      const [program, ...argv] = options.network ? options.network.enter([file, ...args]) : [file, ...args];
      const result = await run(program!, argv, {
        cwd: options.worktree,
        env: options.env,
        ...(options.network || !options.user ? {} : { user: options.user }),
        timeoutMs: left,
        group: true,
        check: false,
        ...(options.signal ? { signal: options.signal } : {}),
        onOutput: (text) => {
          tail = (tail + text).slice(-CHECK_OUTPUT_TAIL);
          lines.write(text);
        },
      });
      exitCode = result.code;
      timedOut = result.timedOut === true;
      if (timedOut) tail = `${tail}\n(killed: the checks' time, CHECK_TIMEOUT ${formatMs(options.timeoutMs)}, ran out)`.slice(-CHECK_OUTPUT_TAIL);
    } catch (error) {
      tail = `${tail}\ncould not run ${command}: ${(error as Error).message}`.slice(-CHECK_OUTPUT_TAIL);
    }
    lines.flush();
    const durationMs = Math.max(0, Math.round(now() - started));
    options.writeLine(checkMarkerLine({ type: "acp.check", phase: "end", command, exitCode, durationMs, timedOut }));
    results.push({ command, exitCode, durationMs, timedOut, outputTail: tail.trimEnd() });
  }
  const passed = !plan.error && results.every((r) => r.exitCode === 0);
  return { source: plan.source, commands: results, passed, ...(plan.error ? { error: plan.error } : {}) };
}
