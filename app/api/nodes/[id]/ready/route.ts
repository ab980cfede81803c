import { NodeReadyCallback } from "@/lib/contracts/vm-agent";
import { nodeReadyCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { HttpError, json } from "@/lib/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("node", NodeReadyCallback, async ({ rt, id, body, claim }) => {
  if (claim !== id) throw new HttpError(403, "the token is for another node");
  return json(await nodeReadyCallback(rt, id, body));
});
