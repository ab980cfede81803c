import { CreateApiTokenRequest } from "@/lib/contracts/api";
import { createApiToken, listApiTokens } from "@/lib/auth/api-tokens";
import { userRoute } from "@/app/_server/routes";
import { HttpError, json, parseBody } from "@/app/_server/http/respond";
import type { Runtime } from "@/lib/runtime";

export const dynamic = "force-dynamic";

/** Tokens stand for a person in team mode; local mode has no sign-in for them to replace. */
function teamModeOnly(rt: Runtime) {
  if (rt.config.AUTH_MODE !== "team") throw new HttpError(409, "local mode has no API tokens: scripts on this machine call the API as they are");
}

export const GET = userRoute(async ({ rt, userId }) => {
  teamModeOnly(rt);
  return json({ tokens: await listApiTokens(rt.db, userId) });
});

/** Answers the token itself, once; it is never shown again. */
export const POST = userRoute(async ({ rt, userId, request }) => {
  teamModeOnly(rt);
  const { name } = await parseBody(request, CreateApiTokenRequest);
  return json(await createApiToken(rt.db, userId, name), 201);
});
