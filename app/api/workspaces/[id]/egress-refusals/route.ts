import { EgressRefusalsCallback } from "@/lib/contracts/egress";
import { recordEgressRefusals } from "@/lib/egress/refusals";
import { callbackRoute } from "@/app/_server/routes";
import { HttpError, json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The node's report of the connections the workspace's egress proxy refused since its last one. */
export const POST = callbackRoute("workspace", EgressRefusalsCallback, async ({ rt, id, body }) => {
  const result = await recordEgressRefusals(rt.db, id, body);
  if (result.outcome === "ignored") throw new HttpError(404, `workspace ${id} not found`);
  return json(result);
});
