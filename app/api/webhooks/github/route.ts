import { runtime } from "@/inngest/runtime";
import { errorResponse, json, problem, readBodyText } from "@/app/_server/http/respond";
import { ciWatchers, validSignature, webhookCommit } from "@/lib/ci/webhook";
import { pullRequestCi } from "@/lib/contracts/events";
import { wakeRuns } from "@/lib/tasks/wake-run";

export const dynamic = "force-dynamic";

/**
 * GitHub's webhook deliveries (configure the repository or organisation to send check runs, check
 * suites, workflow runs and statuses here, with GITHUB_WEBHOOK_SECRET as its secret). 404 when no
 * secret is set, 401 for a delivery whose signature is wrong, 400 for a body that is not JSON;
 * 202 with the tasks woken (a delivery about no watched commit wakes none).
 */
export async function POST(request: Request): Promise<Response> {
  try {
    const rt = await runtime();
    const secret = rt.config.GITHUB_WEBHOOK_SECRET;
    if (!secret) return problem(404, "GitHub webhooks are not configured here (GITHUB_WEBHOOK_SECRET is not set)");
    const body = await readBodyText(request, rt.config.MAX_CALLBACK_BODY_BYTES);
    if (!validSignature(secret, body, request.headers.get("x-hub-signature-256"))) return problem(401, "the delivery's signature does not match GITHUB_WEBHOOK_SECRET", "x-hub-signature-256");
    let payload: unknown;
    try {
      payload = JSON.parse(body);
    } catch {
      return problem(400, "the delivery's body is not JSON (set the webhook's content type to application/json)", "body");
    }
    const commit = webhookCommit(request.headers.get("x-github-event"), payload);
    const woken = commit ? await ciWatchers(rt.db, commit) : [];
    if (commit && woken.length) await wakeRuns(rt, woken.map((taskId) => pullRequestCi.create({ taskId, commit })), "log");
    return json({ woken }, 202);
  } catch (error) {
    return errorResponse(error);
  }
}
