/**
 * The app's own supervisor, started once per app process: the loop that runs the periodic jobs
 * marked `loop` in jobs.ts, each at its interval (NODE_MONITOR_INTERVAL is the loop's pace), the
 * reconciler also at once when the engine comes back after being unreachable or is found to have
 * lost runs (it was restarted). Several app instances may each run one, beside the cron: every
 * action a job takes is a conditional update, so they never double up.
 */
import type { Runtime } from "../runtime";
import { engineLostRuns } from "./reconcile";
import { loopJobs, type PeriodicJob } from "./jobs";

export type SupervisorLog = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export type Supervisor = { stop(): void };

export function startSupervisor(options: {
  runtime: () => Promise<Runtime>;
  log: SupervisorLog;
  /** Re-registers the app with an engine that came back (a restarted dev server has forgotten it). */
  register?: () => Promise<void>;
}): Supervisor {
  let stopped = false;
  let engineUp = false;
  /** When each job's last pass began (the reconciler's: when its last pass went through). */
  const lastRun = new Map<string, number>();
  const timers = new Set<ReturnType<typeof setTimeout>>();

  /** Runs a job, logging what it found; a failure is logged and never stops the loop. True when it went through. */
  const runJob = async (rt: Runtime, job: PeriodicJob) => {
    try {
      for (const line of await job.run(rt)) options.log(line.level, line.msg, line.fields);
      return true;
    } catch (error) {
      options.log("error", job.failure, { error: String((error as Error)?.stack ?? error) });
      return false;
    }
  };

  /**
   * A job at the loop's pace runs at every pass; another when its interval has passed since its
   * last pass began, or, for the reconciler, since its last pass went through (one that failed is
   * tried again at the next pass).
   */
  const due = (rt: Runtime, job: PeriodicJob) => job.interval === "NODE_MONITOR_INTERVAL" || job.interval === "cron" || Date.now() - (lastRun.get(job.name) ?? 0) >= rt.config[job.interval];
  const pass = async (rt: Runtime, job: PeriodicJob) => {
    if (!job.whenEngineReturns) lastRun.set(job.name, Date.now());
    if ((await runJob(rt, job)) && job.whenEngineReturns) lastRun.set(job.name, Date.now());
  };

  const tick = async () => {
    const rt = await options.runtime();
    let reachable: boolean | undefined;
    const engineAnswers = async () => (reachable ??= await rt.engine.reachable());
    let registered = true;
    for (const job of loopJobs(rt.config)) {
      if (job.needsEngine && !(await engineAnswers())) continue;
      if (job.whenEngineReturns) {
        // A restart faster than one pass never looks unreachable: the runs it lost give it away.
        const lost = engineUp ? await engineLostRuns(rt).catch(() => undefined) : undefined;
        if (lost) options.log("warn", `${lost}: it was restarted; reconciling`);
        if (!engineUp || lost) {
          if (!lost) options.log("info", "the engine answers; reconciling the runs it may have lost");
          try {
            await options.register?.();
          } catch (error) {
            // A re-driven run's event would reach an engine that does not know our functions yet and
            // start nothing (until RECONCILE_GRACE): register and reconcile on the next pass instead.
            registered = false;
            options.log("warn", "registering the app with the engine failed; trying again on the next pass", { error: String(error) });
            continue;
          }
          await pass(rt, job);
          continue;
        }
      }
      if (due(rt, job)) await pass(rt, job);
    }
    const up = await engineAnswers();
    if (!up && engineUp) options.log("warn", "the engine does not answer", { url: rt.engine.url });
    engineUp = up && registered;
    return rt.config.NODE_MONITOR_INTERVAL;
  };

  const loop = async () => {
    if (stopped) return;
    let delay = 2_000;
    try {
      delay = await tick();
    } catch (error) {
      options.log("error", "supervisor pass failed", { error: String((error as Error)?.stack ?? error) });
    }
    if (stopped) return;
    const timer = setTimeout(() => {
      timers.delete(timer);
      void loop();
    }, delay);
    timer.unref?.();
    timers.add(timer);
  };
  void loop();

  return {
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
    },
  };
}
