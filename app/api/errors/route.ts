import { ErrorListQuery } from "@/lib/contracts/api";
import { errorList } from "@/lib/operations/errors-view";
import { userRoute } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const GET = userRoute(async ({ rt, request, caller, userId }) => {
  const { kind } = parseQuery(request, ErrorListQuery);
  return json(await errorList(rt.db, { userId, seesSystem: caller.role === "admin" }, kind));
});
