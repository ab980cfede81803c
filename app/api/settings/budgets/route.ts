/** The caller's own spend limits per day and per month (lib/tasks/budget.ts), and what they spent. */
import { PersonBudgets } from "@/lib/contracts/api";
import { personBudgetsView, setPersonBudgets } from "@/lib/tasks/budget";
import { userRoute } from "@/app/_server/routes";
import { json, parseBody } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export const GET = userRoute(async ({ rt, userId }) => json(await personBudgetsView(rt.db, rt.config, userId)));

export const PUT = userRoute(async ({ rt, userId, request }) => json(await setPersonBudgets(rt, userId, await parseBody(request, PersonBudgets))));
