import { RegisterMachineRequest } from "@/lib/contracts/api";
import { registerMachine } from "@/lib/machines/register";
import { vmAgentDownloads } from "@/lib/nodes/artifacts/downloads";
import { downloadSettings } from "@/app/_server/vm-agent-downloads";
import { registrationRoute } from "@/app/_server/routes";

export const dynamic = "force-dynamic";

/**
 * The installer registers a machine (no session: the one-time token is the credential). Answers its
 * parameters as `KEY='value'` lines; 401 an unknown token, 410 a used or expired one, 422 bad input.
 */
export const POST = registrationRoute(RegisterMachineRequest, async ({ rt, request, body }) => {
  const answer = await registerMachine(
    { db: rt.db, keys: rt.keys, config: rt.config, downloads: () => vmAgentDownloads(downloadSettings()) },
    { ...body, forwardedFor: request.headers.get("x-forwarded-for") },
  );
  return new Response(answer.text, { status: 201, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
});
