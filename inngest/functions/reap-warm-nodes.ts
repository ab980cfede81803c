/** Safety net: destroys warm nodes nobody claimed within NODE_WARM_TIMEOUT (only while still warm and unclaimed). */
import { cron } from "inngest";
import { inngest } from "../client";
import { runtime } from "../runtime";
import { expiredWarmNodes, reapIfIdle } from "@/lib/nodes/pool";

export const reapWarmNodes = inngest.createFunction({ id: "reap-warm-nodes", triggers: [cron("* * * * *")] }, async ({ step }) => {
  const expired = await step.run("find-expired", async () => {
    const rt = await runtime();
    return expiredWarmNodes(rt.db, rt.config.NODE_WARM_TIMEOUT);
  });
  let destroyed = 0;
  for (const node of expired) {
    const rt = await runtime();
    if (await step.run(`destroy-${node.id}`, () => reapIfIdle(rt, node.id, rt.config.NODE_WARM_TIMEOUT))) destroyed++;
  }
  return { destroyed };
});
