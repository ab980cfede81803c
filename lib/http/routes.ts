/**
 * One wrapper per kind of caller. Each owns authentication and error mapping, so a route handler
 * only validates, calls its owner and answers.
 */
import type { z } from "zod";
import { bearerToken, TokenError, verifyNodeCallbackToken, verifyWorkspaceCallbackToken } from "../auth/tokens";
import { Id } from "../contracts/vm-agent";
import type { Runtime } from "../runtime";
import { errorResponse, HttpError, parseBody } from "./respond";

type Params = { params: Promise<{ id: string }> };

async function pathId(context: Params): Promise<string> {
  const { id } = await context.params;
  if (!Id.safeParse(id).success && !/^[0-9a-f-]{36}$/.test(id)) throw new HttpError(400, "the id in the path is malformed", "id");
  return id;
}

/**
 * The wrappers, bound to the runtime the app builds (lib does not know the engine client).
 * `app/_server/routes.ts` makes the one set the route handlers use.
 */
export function routeKit(runtime: () => Promise<Runtime>) {
/** Routes the person using the app calls. (Accounts come later: everything is the local user's.) */
function userRoute(handler: (ctx: { rt: Runtime; request: Request }) => Promise<Response>) {
  return async (request: Request) => {
    try {
      return await handler({ rt: await runtime(), request });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function userRouteWithId(handler: (ctx: { rt: Runtime; request: Request; id: string }) => Promise<Response>) {
  return async (request: Request, context: Params) => {
    try {
      return await handler({ rt: await runtime(), request, id: await pathId(context) });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

type CallbackKind = "workspace" | "node";

/**
 * Callbacks from vm-agents. The bearer token must be signed by us, for this audience, and name the
 * resource it acts on: a workspace token only for its workspace, a node token only for its node.
 */
function callbackRoute<S extends z.ZodType>(
  kind: CallbackKind,
  schema: S,
  handler: (ctx: { rt: Runtime; id: string; body: z.infer<S>; claim: string }) => Promise<Response>,
) {
  return async (request: Request, context: Params) => {
    try {
      const rt = await runtime();
      const token = bearerToken(request.headers.get("authorization"));
      if (!token) throw new HttpError(401, "missing bearer token");
      let claim: string;
      try {
        claim =
          kind === "workspace"
            ? (await verifyWorkspaceCallbackToken(rt.keys.publicKey, token)).workspaceId
            : (await verifyNodeCallbackToken(rt.keys.publicKey, token)).nodeId;
      } catch (error) {
        if (error instanceof TokenError) throw new HttpError(401, error.message);
        throw error;
      }
      const id = await pathId(context);
      const body = await parseBody(request, schema, rt.config.MAX_CALLBACK_BODY_BYTES);
      return await handler({ rt, id, body, claim });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

return { userRoute, userRouteWithId, callbackRoute };
}
