/** Liveness for the runner and for load balancers: the app answers and its database is open (migrated). No details. */
import { runtime } from "@/inngest/runtime";
import { errorResponse, json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

export async function GET() {
  try {
    await runtime();
    return json({ status: "ok" });
  } catch (error) {
    return errorResponse(error);
  }
}
