import { NodeReadyCallback } from "@/lib/contracts/vm-agent";
import { nodeReadyCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("node", NodeReadyCallback, async ({ rt, id, body }) => {
  return json(await nodeReadyCallback(rt, id, body));
});
