import { UsageQuery } from "@/lib/contracts/api";
import { usageByDay } from "@/lib/usage/reads";
import { NotAdminError } from "@/lib/auth/invitations";
import { userRoute } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** Tokens, cost and node time per person per UTC day: the caller's own, or (an admin asking for the team's) everyone's. */
export const GET = userRoute(async ({ rt, request, caller, userId }) => {
  const { days, scope } = parseQuery(request, UsageQuery);
  if (scope === "team" && caller.role !== "admin") throw new NotAdminError("see the whole team's usage");
  return json(await usageByDay(rt.db, { days, ...(scope === "team" ? {} : { userIds: [userId] }) }));
});
