import { AgentCompletedCallback } from "@/lib/contracts/vm-agent";
import { agentCompletedCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/lib/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("workspace", AgentCompletedCallback, async ({ rt, id, body, claim }) =>
  json(await agentCompletedCallback(rt, id, claim, body)),
);
