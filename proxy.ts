/**
 * Runs before every page and route. Local mode: the request guard (lib/http/request-guard.ts)
 * keeps other sites and host names out, since there is no sign-in to do it. Team mode: other
 * sites may not drive a signed-in browser, pages send a browser without a session to sign in
 * (the routes check the session itself), and a dev engine's unsigned endpoint stays on this machine.
 */
import { getSessionCookie } from "better-auth/cookies";
import { NextResponse, type NextRequest } from "next/server";
import { config as appConfig } from "@/lib/config";
import { checkLocalRequest, checkTeamRequest, guardedRequest, isLoopbackHost } from "@/lib/http/request-guard";

const SIGN_IN_PAGE = "/sign-in";

export function proxy(request: NextRequest) {
  const settings = appConfig();
  const path = request.nextUrl.pathname;
  const refusal = settings.AUTH_MODE === "local" ? checkLocalRequest(guardedRequest(request)) : checkTeamRequest(guardedRequest(request), settings.APP_URL);
  if (refusal) return NextResponse.json({ error: refusal.error, field: refusal.field }, { status: refusal.status });
  if (settings.AUTH_MODE === "local") return NextResponse.next();

  if (settings.INNGEST_DEV && path.startsWith("/api/inngest") && !isLoopbackHost(request.headers.get("host") ?? "")) {
    // A dev engine's calls are unsigned: only the engine on this machine may make them.
    return NextResponse.json({ error: "the engine endpoint answers only on this machine", field: "host" }, { status: 403 });
  }
  const isPage = !path.startsWith("/api/") && path !== SIGN_IN_PAGE;
  if (isPage && !getSessionCookie(request)) {
    const signIn = new URL(SIGN_IN_PAGE, settings.APP_URL);
    signIn.searchParams.set("next", path + request.nextUrl.search);
    return NextResponse.redirect(signIn);
  }
  return NextResponse.next();
}

export const config = {
  // Static build output, public/'s assets and what nodes download to install the vm-agent
  // (GET only, public code, app/api/vm-agent/) are the same for everyone; everything else is guarded.
  matcher: ["/((?!_next/static|favicon.ico|icon.svg|manifest.webmanifest|api/vm-agent/).*)"],
};
