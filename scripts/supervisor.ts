/**
 * Keeps one child process of the runner alive: when it exits unexpectedly it is started again
 * (same command, arguments and port), waited for, and `afterRestart` runs (the engine: register
 * the app again). A crash loop backs off 1 s, 2 s, 4 s … up to 30 s; a process that stayed up a
 * minute starts the count again. Nothing restarts once `stop()` was called.
 */
import type { ChildProcess } from "node:child_process";
import { groupMembers, stopProcessGroup } from "./procfs";

export type Restart = {
  pid: number;
  /** From the exit to serving again (backoff included). */
  ms: number;
  /** Set when the process serves again but `afterRestart` failed (the app could not be registered). */
  error?: string;
};

export type SupervisorSpec = {
  /** As it reads in a log line: "Inngest server", "app". */
  label: string;
  spawn(): ChildProcess;
  /** Resolves once the new process serves; rejects if it exits or never does. */
  ready(child: ChildProcess): Promise<void>;
  /** After a restart (not the first start), once the process serves; `signal` aborts when the system stops. */
  afterRestart?(signal: AbortSignal): Promise<void>;
  /** What the restart line says was done: "restarted and the app re-registered". */
  restartedWhat: string;
  /** Restart after an unexpected exit (default true). */
  supervise?: boolean;
  log(line: string): void;
  /** Called when a process was launched, once it serves (it may have renamed itself by then), and after stop. */
  onChange?(): void;
  /** The crash-loop backoff: first delay, cap, and the uptime after which a crash counts as the first again. */
  backoff?: { baseMs: number; maxMs: number; stableAfterMs: number };
};

const BACKOFF = { baseMs: 1_000, maxMs: 30_000, stableAfterMs: 60_000 };

const describeExit = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `signal ${signal}` : `exit code ${code}`;

const seconds = (ms: number) => (ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 100) / 10} s`);

export class Supervisor {
  child: ChildProcess | undefined;
  private startedAt = 0;
  private failures = 0;
  /** Set once the first start succeeded: a process that never served is the caller's failure, not a crash. */
  private supervising = false;
  private restarting = false;
  private stopping = false;
  private readonly stopped = new AbortController();
  private wake: (() => void) | undefined;
  private waiters: ((restart: Restart) => void)[] = [];

  constructor(private readonly spec: SupervisorSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The first start: any failure is the caller's (no restart before the system ever ran). */
  async start(): Promise<void> {
    const child = this.launch();
    await this.spec.ready(child);
    this.supervising = true;
    this.spec.onChange?.();
  }

  /** Resolves after the next completed restart. */
  restarted(): Promise<Restart> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.stopped.abort();
    this.wake?.();
    const pid = this.child?.pid;
    if (pid !== undefined) await stopProcessGroup(pid);
    this.spec.onChange?.();
  }

  private launch(): ChildProcess {
    const child = this.spec.spawn();
    this.child = child;
    this.startedAt = Date.now();
    child.once("exit", (code, signal) => {
      if (!this.supervising || this.stopping || this.child !== child || this.restarting || this.spec.supervise === false) return;
      void this.restartLoop(describeExit(code, signal));
    });
    this.spec.onChange?.();
    return child;
  }

  private nextDelay(): number {
    const { baseMs, maxMs, stableAfterMs } = this.spec.backoff ?? BACKOFF;
    if (Date.now() - this.startedAt >= stableAfterMs) this.failures = 0;
    const delay = this.failures === 0 ? 0 : Math.min(maxMs, baseMs * 2 ** (this.failures - 1));
    this.failures++;
    return delay;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private async restartLoop(reason: string) {
    this.restarting = true;
    const exitedAt = Date.now();
    const { label, log } = this.spec;
    try {
      for (let attempt = 1; !this.stopping; attempt++) {
        const delay = this.nextDelay();
        const after = delay > 0 ? ` in ${seconds(delay)}` : "";
        log(attempt === 1 ? `${label} exited (${reason}); restarting${after}…` : `${label} did not come back (${reason}); trying again${after}…`);
        if (delay > 0) await this.sleep(delay);
        if (this.stopping) return;
        // Whatever the dead process left in its group (helpers, workers) would hold its port.
        const old = this.child?.pid;
        if (old !== undefined && groupMembers(old).length > 0) await stopProcessGroup(old, 2_000);
        if (this.stopping) return;
        const child = this.launch();
        try {
          await this.spec.ready(child);
        } catch (error) {
          if (this.stopping) return;
          reason = (error as Error).message;
          if (child.pid !== undefined) await stopProcessGroup(child.pid, 2_000);
          continue;
        }
        this.spec.onChange?.();
        let failed: string | undefined;
        try {
          await this.spec.afterRestart?.(this.stopped.signal);
        } catch (error) {
          if (this.stopping) return;
          // The process itself serves; what failed is outside it (the app may be restarting too).
          failed = (error as Error).message;
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          reason = `${describeExit(child.exitCode, child.signalCode)} right after it started`;
          continue;
        }
        // From the exit to serving again, backoff included: how long the system went without it.
        const restart: Restart = { pid: child.pid!, ms: Date.now() - exitedAt, ...(failed ? { error: failed } : {}) };
        log(failed ? `${label} restarted in ${restart.ms} ms, but ${failed}.` : `${label} ${this.spec.restartedWhat} in ${restart.ms} ms.`);
        for (const resolve of this.waiters.splice(0)) resolve(restart);
        return;
      }
    } finally {
      this.restarting = false;
    }
  }
}
