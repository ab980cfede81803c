import { revokeApiToken } from "@/lib/auth/api-tokens";
import { userRouteWithId } from "@/app/_server/routes";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** Revokes one of the caller's tokens at once, live streams included; another person's is not found. */
export const DELETE = userRouteWithId(async ({ rt, userId, id }) => json(await revokeApiToken(rt.db, userId, id)));
