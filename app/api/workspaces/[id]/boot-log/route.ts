import { BootLogCallback } from "@/lib/contracts/vm-agent";
import { bootLogCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", BootLogCallback, async ({ rt, id, body }) => {
  return json(await bootLogCallback(rt, id, body));
});
