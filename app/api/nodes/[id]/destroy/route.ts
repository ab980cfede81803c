import { DestroyNodeRequest } from "@/lib/contracts/api";
import { destroyNodeForOperator } from "@/lib/operations/destroy-node";
import { userRouteWithId } from "@/app/_server/routes";
import { json, parseBody } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The destroy button: 404 unknown, 409 already stopped or holding tasks (unless `force`). */
export const POST = userRouteWithId(async ({ rt, id, request, userId }) => {
  const { force } = await parseBody(request, DestroyNodeRequest);
  return json(await destroyNodeForOperator(rt, userId, id, { force }));
});
