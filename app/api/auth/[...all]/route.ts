/** better-auth's endpoints (sign-in with GitHub, its callback, the session, sign-out): team mode only. */
import { toNextJsHandler } from "better-auth/next-js";
import { runtime } from "@/inngest/runtime";
import { handleSignIn } from "@/lib/auth/sign-in";
import { problem } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

async function handle(request: Request): Promise<Response> {
  const rt = await runtime();
  if (rt.config.AUTH_MODE !== "team") return problem(404, "local mode signs in with a one-time link, not here (see /sign-in)");
  return handleSignIn(rt.db, rt.config, request);
}

export const { GET, POST } = toNextJsHandler(handle);
