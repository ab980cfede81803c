/** The route wrappers every handler uses, bound to the app's runtime. */
import { routeKit } from "@/lib/http/routes";
import { runtime } from "@/inngest/runtime";

export const { userRoute, userRouteWithId, callbackRoute } = routeKit(runtime);
