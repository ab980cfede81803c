import { ProvisioningFailedCallback } from "@/lib/contracts/vm-agent";
import { provisioningFailedCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", ProvisioningFailedCallback, async ({ rt, id, body }) => {
  return json(await provisioningFailedCallback(rt, id, body));
});
