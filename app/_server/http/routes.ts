/**
 * One wrapper per kind of caller. Each owns authentication and error mapping, so a route handler
 * only validates, calls its owner and answers.
 */
import type { z } from "zod";
import { verifyNodeCallbackToken, verifyWorkspaceCallbackToken } from "@/lib/auth/tokens";
import { bearerToken, TokenError } from "@/lib/contracts/tokens";
import { Id } from "@/lib/contracts/vm-agent";
import type { Runtime } from "@/lib/runtime";
import { errorResponse, HttpError, parseBody } from "./respond";
import { callerStillValid, identifyCaller, type Caller } from "./caller";

type Params = { params: Promise<{ id: string }> };

async function pathId(context: Params): Promise<string> {
  const { id } = await context.params;
  if (!Id.safeParse(id).success && !/^[0-9a-f-]{36}$/.test(id)) throw new HttpError(400, "the id in the path is malformed", "id");
  return id;
}

export type UserContext = {
  rt: Runtime;
  request: Request;
  /** The person asking: every read and write is theirs only. */
  userId: string;
  caller: Caller;
  /** Whether the caller's credential still holds (live streams ask while they run). */
  stillValid: () => Promise<boolean>;
};

async function userContext(rt: Runtime, request: Request): Promise<UserContext> {
  const caller = await identifyCaller(rt, request);
  return { rt, request, userId: caller.userId, caller, stillValid: () => callerStillValid(rt, caller) };
}

/**
 * The wrappers, bound to a runtime: `app/_server/routes.ts` makes the one set the route handlers
 * use, bound to the app's runtime and mapping domain errors (./domain-errors.ts).
 */
export function routeKit(runtime: () => Promise<Runtime>) {
/** Routes a person calls: the caller is identified first (caller.ts); handlers act as `userId` only. */
function userRoute(handler: (ctx: UserContext) => Promise<Response>) {
  return async (request: Request) => {
    try {
      const rt = await runtime();
      return await handler(await userContext(rt, request));
    } catch (error) {
      return errorResponse(error);
    }
  };
}

function userRouteWithId(handler: (ctx: UserContext & { id: string }) => Promise<Response>) {
  return async (request: Request, context: Params) => {
    try {
      const rt = await runtime();
      const ctx = await userContext(rt, request);
      return await handler({ ...ctx, id: await pathId(context) });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/**
 * What a callback's path names: a node or a workspace, each called with its own token only, or an
 * agent session, called with its workspace's token (the session's owner checks the two belong).
 */
type CallbackKind = "workspace" | "node" | "session";

/** The context a callback handler gets: the path's id, which the token was checked to speak for. */
type CallbackContext<S extends z.ZodType, K extends CallbackKind> = { rt: Runtime; id: string; body: z.infer<S>; workspaceId: K extends "node" ? null : string };

/**
 * Callbacks from vm-agents. The bearer token must be signed by us, for this audience, and name the
 * resource it acts on: a node token only for its node, a workspace token only for its workspace
 * (403 otherwise, before the body is read). A session's path gets the token's workspace as
 * `workspaceId`, for its owner to match against the session's.
 */
function callbackRoute<S extends z.ZodType, K extends CallbackKind>(kind: K, schema: S, handler: (ctx: CallbackContext<S, K>) => Promise<Response>) {
  return async (request: Request, context: Params) => {
    try {
      const rt = await runtime();
      const token = bearerToken(request.headers.get("authorization"));
      if (!token) throw new HttpError(401, "missing bearer token");
      let claim: string;
      try {
        claim =
          kind === "node"
            ? (await verifyNodeCallbackToken(rt.keys.publicKey, token)).nodeId
            : (await verifyWorkspaceCallbackToken(rt.keys.publicKey, token)).workspaceId;
      } catch (error) {
        if (error instanceof TokenError) throw new HttpError(401, error.message);
        throw error;
      }
      const id = await pathId(context);
      if (kind !== "session" && claim !== id) throw new HttpError(403, `the token is for another ${kind}`);
      const body = await parseBody(request, schema, rt.config.MAX_CALLBACK_BODY_BYTES);
      // Typed by `kind`: null for a node's path, the token's workspace otherwise.
      const workspaceId = (kind === "node" ? null : claim) as CallbackContext<S, K>["workspaceId"];
      return await handler({ rt, id, body, workspaceId });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/**
 * Routes a machine calls before it is a node, with no session: its one credential is the one-time
 * registration token in the body, which the handler's owner spends (lib/machines/registrations.ts),
 * so the check and the use are one step and a token is never good twice.
 */
function registrationRoute<S extends z.ZodType>(schema: S, handler: (ctx: { rt: Runtime; request: Request; body: z.infer<S> }) => Promise<Response>) {
  return async (request: Request) => {
    try {
      const rt = await runtime();
      const body = await parseBody(request, schema);
      return await handler({ rt, request, body });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

/**
 * The same for a node that is not running yet and has no callback token: its installer exchanges the
 * one-time enrollment token in the body for one (lib/nodes/enrollment.ts), for the node in the path.
 */
function registrationRouteWithId<S extends z.ZodType>(schema: S, handler: (ctx: { rt: Runtime; id: string; body: z.infer<S> }) => Promise<Response>) {
  return async (request: Request, context: Params) => {
    try {
      const rt = await runtime();
      const id = await pathId(context);
      const body = await parseBody(request, schema);
      return await handler({ rt, id, body });
    } catch (error) {
      return errorResponse(error);
    }
  };
}

return { userRoute, userRouteWithId, callbackRoute, registrationRoute, registrationRouteWithId };
}
