import { EnrollNodeRequest } from "@/lib/contracts/api";
import { enrollNode } from "@/lib/nodes/enrollment";
import { registrationRouteWithId } from "@/app/_server/routes";

export const dynamic = "force-dynamic";

/**
 * A cloud node's installer exchanges its one-time enrollment token for the node's callback token
 * (no session, no bearer: the token in the body is the credential). Answers the parameters as
 * `KEY='value'` lines; 401 a token not this node's, 410 a used or expired one, 404 a node that is
 * stopped or lost, 400/422 bad input.
 */
export const POST = registrationRouteWithId(EnrollNodeRequest, async ({ rt, id, body }) => {
  const answer = await enrollNode({ db: rt.db, keys: rt.keys, callbackTtlMs: rt.config.CALLBACK_TOKEN_TTL }, id, body.token);
  return new Response(answer.text, { status: 200, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
});
