import { ProvisioningFailedCallback } from "@/lib/contracts/vm-agent";
import { provisioningFailedCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { HttpError, json } from "@/lib/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", ProvisioningFailedCallback, async ({ rt, id, body, claim }) => {
  if (claim !== id) throw new HttpError(403, "the token is for another workspace");
  return json(await provisioningFailedCallback(rt, id, body));
});
