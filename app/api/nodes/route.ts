import { NodeListQuery } from "@/lib/contracts/api";
import { listNodes } from "@/lib/operations/nodes-view";
import { userRoute } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const GET = userRoute(async ({ rt, request, userId }) => {
  const { all } = parseQuery(request, NodeListQuery);
  return json({ nodes: await listNodes(rt.db, userId, { capacity: rt.config.MAX_WORKSPACES_PER_NODE, includeOldStopped: all }) });
});
