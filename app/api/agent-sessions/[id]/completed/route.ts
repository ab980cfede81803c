import { AgentCompletedCallback } from "@/lib/contracts/vm-agent";
import { agentCompletedCallback } from "@/lib/callbacks/handlers";
import { callbackRoute } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const POST = callbackRoute("session", AgentCompletedCallback, async ({ rt, id, body, workspaceId }) =>
  json(await agentCompletedCallback(rt, id, workspaceId, body)),
);
