/**
 * Runs before every page and route: in local mode, the request guard (lib/http/request-guard.ts)
 * keeps other sites and other host names out, since there is no sign-in to do it.
 */
import { NextResponse, type NextRequest } from "next/server";
import { config as appConfig } from "@/lib/config";
import { checkLocalRequest, guardedRequest } from "@/lib/http/request-guard";

export function proxy(request: NextRequest) {
  if (appConfig().AUTH_MODE !== "local") return NextResponse.next();
  const refusal = checkLocalRequest(guardedRequest(request));
  if (!refusal) return NextResponse.next();
  return NextResponse.json({ error: refusal.error, field: refusal.field }, { status: refusal.status });
}

export const config = {
  // Static build output is the same for everyone; everything else is guarded.
  matcher: ["/((?!_next/static|favicon.ico).*)"],
};
