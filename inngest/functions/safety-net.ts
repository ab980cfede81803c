/** Safety nets, every minute: failed cleanups retried, stuck tasks re-driven once then failed, old nodes retired, lost nodes' machines destroyed, orphans reported. */
import { cron } from "inngest";
import { inngest } from "../client";
import { runtime } from "../runtime";
import { destroyLostNodes, reportOrphans, rescueStuckTasks, retireOldNodes, retryCleanups } from "@/lib/recovery/safety-nets";

export const safetyNet = inngest.createFunction({ id: "safety-net", triggers: [cron("* * * * *")] }, async ({ step }) => {
  const cleanups = await step.run("retry-cleanups", async () => retryCleanups(await runtime()));
  const stuck = await step.run("rescue-stuck-tasks", async () => rescueStuckTasks(await runtime()));
  const retired = await step.run("retire-old-nodes", async () => retireOldNodes(await runtime()));
  const lost = await step.run("destroy-lost-nodes", async () => destroyLostNodes(await runtime()));
  const orphans = await step.run("report-orphans", async () => reportOrphans(await runtime()));
  return { cleanups: cleanups.length, stuck: stuck.length, retired: retired.length, lost: lost.length, orphans: orphans.length };
});
