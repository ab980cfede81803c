/**
 * Every periodic job of the control plane, in one list: what it guards, how often it runs, and
 * where. Two schedulers take their jobs from here: the in-process loop of each app instance
 * (supervisor.ts, started by instrumentation.ts) and the Inngest cron (inngest/functions/
 * periodic-jobs.ts, every minute). A job marked `loop` runs in the loop; one marked `cron` runs from
 * the cron on every host. On a serverless host (SUPERVISOR_CRON) no process lives between requests
 * to run the loop, so the cron runs every job.
 *
 * Several schedulers may run the same job at once (two instances, the loop beside the cron): every
 * action a job takes is a conditional update, so they never act twice (jobs.integration.test.ts).
 */
import type { Config } from "../config";
import type { Runtime } from "../runtime";
import { refreshPullRequests } from "../forge/pull-requests";
import { interruptHeldTurns } from "../budgets/enforce";
import { monitorNodes } from "../nodes/monitor";
import { expiredWarmNodes, reapIfIdle, wakeQueues } from "../nodes/pool";
import { destroyLostNodes, reportOrphans, retireOldNodes } from "../recovery/safety-nets";
import { sweepRetention } from "../retention/sweep";
import { retryCleanups } from "./cleanup";
import { reconcile } from "./reconcile";
import { rewakeFinishedAgents } from "./rewake";
import { redriveSilentRuns, redriveStalledRuns } from "./stalled";
import { rescueStuckTasks } from "./stuck";

/** A line for the log: what a pass found worth saying (nothing when it found nothing). */
export type JobLog = { level: "info" | "warn" | "error"; msg: string; fields?: Record<string, unknown> };

/** The interval settings jobs run by; the cron-only jobs run every minute (`cron`). */
export type JobInterval = "NODE_MONITOR_INTERVAL" | "RECONCILE_INTERVAL" | "RETENTION_SWEEP_INTERVAL" | "PULL_REQUEST_REFRESH_INTERVAL" | "cron";
export const CRON_EVERY_MINUTE = "* * * * *";
const MINUTE = 60_000;

export type PeriodicJob = {
  /** Its name in the log and its step in the cron. */
  name: string;
  guards: string;
  /** NODE_MONITOR_INTERVAL is the loop's own pace: such a job runs at every pass. */
  interval: JobInterval;
  runsIn: readonly ("loop" | "cron")[];
  /** It sends events: the loop runs it only while the engine answers. */
  needsEngine: boolean;
  /** The loop also runs it at once when the engine answers again (after being down or restarted). */
  whenEngineReturns?: boolean;
  /** Off by configuration (an interval of 0 that means never). */
  enabled?: (config: Config) => boolean;
  /** The log message when a pass throws. */
  failure: string;
  run: (rt: Runtime) => Promise<JobLog[]>;
};

const found = (level: JobLog["level"], msg: string, fields: Record<string, unknown>, any: boolean): JobLog[] => (any ? [{ level, msg, fields }] : []);

export const PERIODIC_JOBS: readonly PeriodicJob[] = [
  {
    name: "node-monitor",
    guards: "nodes: local daemons, heartbeat ages, probes; a lost node's tasks are woken to move on",
    interval: "NODE_MONITOR_INTERVAL",
    runsIn: ["loop"],
    needsEngine: false,
    failure: "node monitor pass failed",
    run: async (rt) => {
      await monitorNodes(rt);
      return [];
    },
  },
  {
    name: "rewake-finished-agents",
    guards: "a finished agent's run whose wake was lost (rewake.ts)",
    interval: "NODE_MONITOR_INTERVAL",
    runsIn: ["loop"],
    needsEngine: true,
    failure: "re-waking finished agents failed",
    run: async (rt) => {
      const woken = await rewakeFinishedAgents(rt);
      return found("warn", "woke runs that missed their agent's completion", { tasks: woken }, woken.length > 0);
    },
  },
  {
    name: "budget-interrupts",
    guards: "an agent past its budget whose node missed the interrupt (lib/budgets/enforce.ts)",
    interval: "NODE_MONITOR_INTERVAL",
    runsIn: ["loop"],
    needsEngine: false,
    failure: "asking nodes to interrupt agents at their budgets failed",
    run: async (rt) => {
      const asked = await interruptHeldTurns(rt);
      return found("info", "asked nodes to interrupt agents held by a budget", { tasks: asked }, asked.length > 0);
    },
  },
  {
    name: "wake-queues",
    // Level-triggered: a wake lost, a slot freed without a cleanup.
    guards: "queued tasks while their person's nodes have free slots",
    interval: "NODE_MONITOR_INTERVAL",
    runsIn: ["loop"],
    needsEngine: true,
    failure: "waking queued tasks failed",
    run: async (rt) => {
      const queued = await wakeQueues(rt);
      return found("info", "woke queued tasks for free slots", { tasks: queued }, queued.length > 0);
    },
  },
  {
    name: "redrive-stalled-runs",
    guards: "runs the engine keeps without running them: past their promise to call again, or deaf to their agent's end (stalled.ts)",
    interval: "NODE_MONITOR_INTERVAL",
    runsIn: ["loop"],
    needsEngine: true,
    failure: "re-driving stalled runs failed",
    run: async (rt) => {
      const stalled = [...(await redriveStalledRuns(rt)), ...(await redriveSilentRuns(rt))];
      return found("warn", "re-drove runs the engine keeps without running them", { redriven: stalled }, stalled.length > 0);
    },
  },
  {
    name: "reconcile",
    guards: "tasks whose run the engine lost (restarted, event lost, never started): re-driven (reconcile.ts)",
    interval: "RECONCILE_INTERVAL",
    runsIn: ["loop"],
    needsEngine: true,
    whenEngineReturns: true,
    failure: "reconciler pass failed",
    run: async (rt) => {
      const report = await reconcile(rt);
      return [
        ...report.redriven.map((r): JobLog => ({ level: r.outcome === "failed" ? "error" : "info", msg: `reconciler: task ${r.taskId} ${r.outcome}`, fields: { ...r } })),
        ...(report.unreadable ?? []).map((u): JobLog => ({ level: "warn", msg: `reconciler: could not read the engine's answer about task ${u.taskId}'s run`, fields: { ...u } })),
      ];
    },
  },
  {
    name: "retention-sweep",
    guards: "what is past its retention: worktrees, node folders, live events, receipts, output",
    interval: "RETENTION_SWEEP_INTERVAL",
    runsIn: ["loop"],
    needsEngine: false,
    failure: "retention sweep failed",
    run: async (rt) => {
      const swept = await sweepRetention(rt);
      return found("info", "retention sweep", swept, Object.values(swept).some((n) => n > 0));
    },
  },
  {
    name: "refresh-pull-requests",
    guards: "open pull requests merged or closed on the forge",
    interval: "PULL_REQUEST_REFRESH_INTERVAL",
    runsIn: ["loop"],
    needsEngine: false,
    enabled: (config) => config.PULL_REQUEST_REFRESH_INTERVAL > 0,
    failure: "refreshing pull requests failed",
    run: async (rt) => {
      const changed = await refreshPullRequests({ db: rt.db, secrets: rt.secrets, config: rt.config }, rt.config.PULL_REQUEST_REFRESH_INTERVAL);
      return found("info", "pull requests changed state on the forge", { changed }, changed > 0);
    },
  },
  {
    name: "retry-cleanups",
    guards: "ended tasks whose cleanup failed or whose run was lost (cleanup.ts)",
    interval: "cron",
    runsIn: ["cron"],
    needsEngine: false,
    failure: "retrying cleanups failed",
    run: async (rt) => {
      const cleanups = await retryCleanups(rt);
      return found("info", "retried cleanups", { cleanups }, cleanups.length > 0);
    },
  },
  {
    name: "rescue-stuck-tasks",
    guards: "tasks with no progress in a step past its limit: re-driven once, then failed (stuck.ts)",
    interval: "cron",
    runsIn: ["cron"],
    needsEngine: true,
    failure: "rescuing stuck tasks failed",
    run: async (rt) => {
      const stuck = await rescueStuckTasks(rt);
      return found("warn", "rescued stuck tasks", { stuck }, stuck.length > 0);
    },
  },
  {
    name: "reap-warm-nodes",
    guards: "warm nodes nobody claimed within NODE_WARM_TIMEOUT (only while still warm and unclaimed)",
    interval: "cron",
    runsIn: ["cron"],
    needsEngine: false,
    failure: "reaping warm nodes failed",
    run: async (rt) => {
      const destroyed: string[] = [];
      for (const node of await expiredWarmNodes(rt.db, rt.config.NODE_WARM_TIMEOUT)) if (await reapIfIdle(rt, node.id, rt.config.NODE_WARM_TIMEOUT)) destroyed.push(node.id);
      return found("info", "destroyed warm nodes nobody claimed", { destroyed }, destroyed.length > 0);
    },
  },
  {
    name: "retire-old-nodes",
    guards: "auto-provisioned nodes past MAX_AUTO_NODE_LIFETIME, once idle",
    interval: "cron",
    runsIn: ["cron"],
    needsEngine: false,
    failure: "retiring old nodes failed",
    run: async (rt) => {
      const retired = await retireOldNodes(rt);
      return found("info", "retired old nodes", { retired }, retired.length > 0);
    },
  },
  {
    name: "destroy-lost-nodes",
    guards: "lost nodes whose machine could not be destroyed then (a cloud bills it until it is)",
    interval: "cron",
    runsIn: ["cron"],
    needsEngine: false,
    failure: "destroying lost nodes failed",
    run: async (rt) => {
      const destroyed = await destroyLostNodes(rt);
      return found("info", "destroyed lost nodes' machines", { destroyed }, destroyed.length > 0);
    },
  },
  {
    name: "report-orphans",
    guards: "daemons, workspaces and sessions that belong to nothing; tasks pointing at a node that is gone",
    interval: "cron",
    runsIn: ["cron"],
    needsEngine: true,
    failure: "reporting orphans failed",
    run: async (rt) => {
      const orphans = await reportOrphans(rt);
      return found("warn", "reported orphans", { orphans }, orphans.length > 0);
    },
  },
];

/** Whether the cron runs the in-process loop's jobs too: set, or on a serverless host (Vercel sets VERCEL). */
export const cronRunsLoopJobs = (config: Pick<Config, "SUPERVISOR_CRON" | "VERCEL">) => config.SUPERVISOR_CRON ?? Boolean(config.VERCEL);

export const loopJobs = (config: Config) => PERIODIC_JOBS.filter((job) => job.runsIn.includes("loop") && (job.enabled?.(config) ?? true));

/**
 * The jobs the cron runs in the minute starting at `minute` (ms): those it always runs, and on a
 * serverless host the loop's too, each when its interval has come round in that minute (an
 * interval under a minute: every minute).
 */
export function cronJobsDue(config: Config, minute: number): PeriodicJob[] {
  const withLoop = cronRunsLoopJobs(config);
  return PERIODIC_JOBS.filter((job) => {
    if (!(job.runsIn.includes("cron") || withLoop) || !(job.enabled?.(config) ?? true)) return false;
    const every = job.interval === "cron" ? MINUTE : config[job.interval];
    return every <= MINUTE || Math.floor(minute / every) !== Math.floor((minute - MINUTE) / every);
  });
}
