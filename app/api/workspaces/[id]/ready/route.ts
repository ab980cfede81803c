import { WorkspaceReadyCallback } from "@/lib/contracts/vm-agent";
import { workspaceReadyCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", WorkspaceReadyCallback, async ({ rt, id, body }) => {
  return json(await workspaceReadyCallback(rt, id, body));
});
