/**
 * The app's own supervisor, started once per app process: the node monitor and the re-wakes
 * (finished agents, queued tasks while slots are free) every NODE_MONITOR_INTERVAL, the reconciler every RECONCILE_INTERVAL, and at once when the engine
 * comes back after being unreachable or is found to have lost runs (it was restarted). Several app instances may each
 * run one: every action it takes is a conditional update, so they never double up.
 */
import type { Runtime } from "../runtime";
import { monitorNodes } from "../nodes/monitor";
import { engineLostRuns, reconcile, type ReconcileReport } from "../recovery/reconcile";
import { sweepRetention } from "../retention/sweep";
import { refreshPullRequests } from "../forge/pull-requests";
import { rewakeFinishedAgents } from "../recovery/rewake";
import { redriveSilentRuns, redriveStalledRuns } from "../recovery/stalled";
import { wakeQueues } from "../nodes/pool";

export type SupervisorLog = (level: "info" | "warn" | "error", msg: string, fields?: Record<string, unknown>) => void;

export type Supervisor = { stop(): void; reconcileNow(): Promise<ReconcileReport | undefined> };

export function startSupervisor(options: {
  runtime: () => Promise<Runtime>;
  log: SupervisorLog;
  /** Re-registers the app with an engine that came back (a restarted dev server has forgotten it). */
  register?: () => Promise<void>;
}): Supervisor {
  let stopped = false;
  let engineUp = false;
  let lastReconcile = 0;
  let lastSweep = 0;
  let lastPullRequestRefresh = 0;
  let reconciling: Promise<ReconcileReport | undefined> | undefined;
  const timers = new Set<ReturnType<typeof setTimeout>>();

  const runReconcile = () => {
    reconciling ??= (async () => {
      try {
        const rt = await options.runtime();
        const report = await reconcile(rt);
        lastReconcile = Date.now();
        for (const r of report.redriven) options.log(r.outcome === "failed" ? "error" : "info", `reconciler: task ${r.taskId} ${r.outcome}`, { ...r });
        for (const u of report.unreadable ?? []) options.log("warn", `reconciler: could not read the engine's answer about task ${u.taskId}'s run`, { ...u });
        return report;
      } catch (error) {
        options.log("error", "reconciler pass failed", { error: String((error as Error)?.stack ?? error) });
        return undefined;
      } finally {
        reconciling = undefined;
      }
    })();
    return reconciling;
  };

  const tick = async () => {
    const rt = await options.runtime();
    try {
      await monitorNodes(rt);
    } catch (error) {
      options.log("error", "node monitor pass failed", { error: String((error as Error)?.stack ?? error) });
    }
    const reachable = await rt.engine.reachable();
    if (reachable) {
      try {
        const woken = await rewakeFinishedAgents(rt);
        if (woken.length) options.log("warn", "woke runs that missed their agent's completion", { tasks: woken });
        // Level-triggered: queued tasks while slots are free (a wake lost, a slot freed without a cleanup).
        const queued = await wakeQueues(rt);
        if (queued.length) options.log("info", "woke queued tasks for free slots", { tasks: queued });
        const stalled = [...(await redriveStalledRuns(rt)), ...(await redriveSilentRuns(rt))];
        if (stalled.length) options.log("warn", "re-drove runs the engine keeps without running them", { redriven: stalled });
      } catch (error) {
        options.log("error", "re-waking finished agents failed", { error: String(error) });
      }
    }
    // A restart faster than one pass never looks unreachable: the runs it lost give it away.
    const lost = reachable && engineUp ? await engineLostRuns(rt).catch(() => undefined) : undefined;
    if (lost) options.log("warn", `${lost}: it was restarted; reconciling`);
    let registered = true;
    if (reachable && (!engineUp || lost)) {
      if (!lost) options.log("info", "the engine answers; reconciling the runs it may have lost");
      try {
        await options.register?.();
        await runReconcile();
      } catch (error) {
        // A re-driven run's event would reach an engine that does not know our functions yet and
        // start nothing (until RECONCILE_GRACE): register and reconcile on the next pass instead.
        registered = false;
        options.log("warn", "registering the app with the engine failed; trying again on the next pass", { error: String(error) });
      }
    } else if (reachable && Date.now() - lastReconcile >= rt.config.RECONCILE_INTERVAL) {
      await runReconcile();
    }
    if (Date.now() - lastSweep >= rt.config.RETENTION_SWEEP_INTERVAL) {
      lastSweep = Date.now();
      try {
        const swept = await sweepRetention(rt);
        if (Object.values(swept).some((n) => n > 0)) options.log("info", "retention sweep", swept);
      } catch (error) {
        options.log("error", "retention sweep failed", { error: String((error as Error)?.stack ?? error) });
      }
    }
    const refreshEvery = rt.config.PULL_REQUEST_REFRESH_INTERVAL;
    if (refreshEvery > 0 && Date.now() - lastPullRequestRefresh >= refreshEvery) {
      lastPullRequestRefresh = Date.now();
      try {
        const changed = await refreshPullRequests({ db: rt.db, secrets: rt.secrets, config: rt.config }, refreshEvery);
        if (changed) options.log("info", "pull requests changed state on the forge", { changed });
      } catch (error) {
        options.log("error", "refreshing pull requests failed", { error: String((error as Error)?.stack ?? error) });
      }
    }
    if (!reachable && engineUp) options.log("warn", "the engine does not answer", { url: rt.engine.url });
    engineUp = reachable && registered;
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
    reconcileNow: () => runReconcile(),
  };
}
