import { NodeHeartbeatCallback } from "@/lib/contracts/vm-agent";
import { nodeHeartbeatCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("node", NodeHeartbeatCallback, async ({ rt, id, body }) => {
  return json(await nodeHeartbeatCallback(rt, id, body));
});
