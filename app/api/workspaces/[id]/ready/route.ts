import { WorkspaceReadyCallback } from "@/lib/contracts/vm-agent";
import { workspaceReadyCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { HttpError, json } from "@/lib/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", WorkspaceReadyCallback, async ({ rt, id, body, claim }) => {
  if (claim !== id) throw new HttpError(403, "the token is for another workspace");
  return json(await workspaceReadyCallback(rt, id, body));
});
