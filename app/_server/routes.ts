/** The route wrappers every handler uses, bound to the app's runtime; domain errors map through one table. */
import { routeKit } from "./http/routes";
import { runtime } from "@/inngest/runtime";
import { toHttpError } from "./domain-errors";

const kit = routeKit(runtime);

function mapDomainErrors<A extends unknown[]>(handler: (...args: A) => Promise<Response>) {
  return async (...args: A) => {
    try {
      return await handler(...args);
    } catch (error) {
      throw toHttpError(error);
    }
  };
}

export const userRoute: typeof kit.userRoute = (handler) => kit.userRoute(mapDomainErrors(handler));
export const userRouteWithId: typeof kit.userRouteWithId = (handler) => kit.userRouteWithId(mapDomainErrors(handler));
export const callbackRoute: typeof kit.callbackRoute = (kind, schema, handler) => kit.callbackRoute(kind, schema, mapDomainErrors(handler));
export const registrationRoute: typeof kit.registrationRoute = (schema, handler) => kit.registrationRoute(schema, mapDomainErrors(handler));
export const registrationRouteWithId: typeof kit.registrationRouteWithId = (schema, handler) => kit.registrationRouteWithId(schema, mapDomainErrors(handler));
