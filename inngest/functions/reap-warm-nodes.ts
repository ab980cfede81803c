/** Safety net: destroys warm nodes nobody claimed within NODE_WARM_TIMEOUT. */
import { cron } from "inngest";
import { inngest } from "../client";
import { runtime } from "@/lib/runtime";
import { destroyNode, expiredWarmNodes } from "@/lib/nodes/lifecycle";

export const reapWarmNodes = inngest.createFunction({ id: "reap-warm-nodes", triggers: [cron("* * * * *")] }, async ({ step }) => {
  const expired = await step.run("find-expired", async () => {
    const rt = await runtime();
    return expiredWarmNodes(rt.db, rt.config.NODE_WARM_TIMEOUT);
  });
  for (const node of expired) {
    await step.run(`destroy-${node.id}`, async () => destroyNode(await runtime(), node.id));
  }
  return { destroyed: expired.length };
});
