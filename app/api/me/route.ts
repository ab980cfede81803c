import type { Me } from "@/lib/contracts/api";
import { getUser } from "@/lib/users";
import { userRoute } from "@/app/_server/routes";
import { json, problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The signed-in person (401 when nobody is, in team mode). */
export const GET = userRoute(async ({ rt, userId, caller }) => {
  const user = await getUser(rt.db, { id: userId });
  if (!user) return problem(401, "the signed-in person no longer exists", "authorization");
  return json({ mode: rt.config.AUTH_MODE, user, via: caller.via } satisfies Me);
});
