/** Which scheduler runs which periodic job, and when the cron finds a job due. */
import { describe, expect, it } from "vitest";
import { parseConfig } from "../config";
import { cronJobsDue, loopJobs, PERIODIC_JOBS } from "./jobs";

const MINUTE = 60_000;
const names = (jobs: readonly { name: string }[]) => jobs.map((j) => j.name);
const LOOP = ["node-monitor", "rewake-finished-agents", "budget-interrupts", "wake-queues", "redrive-stalled-runs", "reconcile", "retention-sweep", "refresh-pull-requests"];
const CRON = ["retry-cleanups", "rescue-stuck-tasks", "reap-warm-nodes", "retire-old-nodes", "destroy-lost-nodes", "report-orphans"];

describe("the periodic jobs", () => {
  it("each has one name and at least one scheduler", () => {
    expect(new Set(names(PERIODIC_JOBS)).size).toBe(PERIODIC_JOBS.length);
    for (const job of PERIODIC_JOBS) expect([job.name, job.runsIn.length > 0]).toEqual([job.name, true]);
  });

  it("on a Node host: the loop runs its jobs, the cron only the safety nets", () => {
    const config = parseConfig({});
    expect(names(loopJobs(config))).toEqual(LOOP);
    expect(names(cronJobsDue(config, 0))).toEqual(CRON);
  });

  it("on a serverless host the cron runs every job, each when its interval comes round", () => {
    const config = parseConfig({ VERCEL: "1" });
    // Minute 0 starts every interval.
    expect(names(cronJobsDue(config, 0)).sort()).toEqual([...LOOP, ...CRON].sort());
    // Minute 1: the jobs at the loop's pace (2s) and every 30 s run; the 10 min sweep and the 5 min refresh do not.
    const minuteOne = names(cronJobsDue(config, MINUTE));
    expect(minuteOne).toEqual(expect.arrayContaining(["node-monitor", "reconcile", ...CRON]));
    expect(minuteOne).not.toContain("retention-sweep");
    expect(minuteOne).not.toContain("refresh-pull-requests");
    expect(names(cronJobsDue(config, 5 * MINUTE))).toContain("refresh-pull-requests");
    expect(names(cronJobsDue(config, 10 * MINUTE))).toContain("retention-sweep");
  });

  it("SUPERVISOR_CRON says so either way, and an interval of 0 turns the pull-request refresh off everywhere", () => {
    expect(names(cronJobsDue(parseConfig({ SUPERVISOR_CRON: "1" }), 0))).toContain("node-monitor");
    expect(names(cronJobsDue(parseConfig({ SUPERVISOR_CRON: "0", VERCEL: "1" }), 0))).toEqual(CRON);
    const off = parseConfig({ PULL_REQUEST_REFRESH_INTERVAL: "0", VERCEL: "1" });
    expect(names(loopJobs(off))).not.toContain("refresh-pull-requests");
    expect(names(cronJobsDue(off, 0))).not.toContain("refresh-pull-requests");
  });
});
