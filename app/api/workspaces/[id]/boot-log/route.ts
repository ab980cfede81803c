import { BootLogCallback } from "@/lib/contracts/vm-agent";
import { bootLogCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { HttpError, json } from "@/lib/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", BootLogCallback, async ({ rt, id, body, claim }) => {
  if (claim !== id) throw new HttpError(403, "the token is for another workspace");
  return json(await bootLogCallback(rt, id, body));
});
