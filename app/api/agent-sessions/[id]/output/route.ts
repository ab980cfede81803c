import { AgentOutputCallback } from "@/lib/contracts/vm-agent";
import { agentOutputCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("session", AgentOutputCallback, async ({ rt, id, body, workspaceId }) =>
  json(await agentOutputCallback(rt, id, workspaceId, body)),
);
