/**
 * The cron's periodic jobs, every minute (lib/runs/jobs.ts lists them): the safety nets on every
 * host, and on a serverless host (SUPERVISOR_CRON) the in-process supervisor's jobs too, each when
 * its interval comes round. Which jobs are due is decided once, in a step, so a replay of the
 * function takes the same steps.
 */
import { cron } from "inngest";
import { inngest } from "../client";
import { runtime } from "../runtime";
import { CRON_EVERY_MINUTE, cronJobsDue, PERIODIC_JOBS } from "@/lib/runs/jobs";

const MINUTE = 60_000;

export const periodicJobs = inngest.createFunction({ id: "periodic-jobs", triggers: [cron(CRON_EVERY_MINUTE)] }, async ({ step }) => {
  const due = await step.run("due-jobs", async () => cronJobsDue((await runtime()).config, Math.floor(Date.now() / MINUTE) * MINUTE).map((job) => job.name));
  const found: Record<string, number> = {};
  for (const job of PERIODIC_JOBS.filter((j) => due.includes(j.name))) {
    const lines = await step.run(job.name, async () => {
      const logged = await job.run(await runtime());
      // Logged in the step, which runs once (the function's body runs again at each step).
      for (const line of logged) console.error(JSON.stringify({ time: new Date().toISOString(), level: line.level, msg: line.msg, job: job.name, ...line.fields }));
      return logged;
    });
    found[job.name] = lines.length;
  }
  return found;
});
