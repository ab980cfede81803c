/**
 * Runs before every page and route. Both modes: other sites may not drive the browser (the
 * request guard, app/_server/http/request-guard.ts; local mode also answers only to localhost
 * names), and pages send a browser without a session to the sign-in page (the routes check the
 * credential itself: app/_server/http/caller.ts). Local mode: `/sign-in?token=…`, the one-time
 * link `npm start` prints, is spent by /api/local-sign-in. Team mode: a dev engine's unsigned
 * endpoint stays on this machine.
 */
import { getSessionCookie } from "better-auth/cookies";
import { NextResponse, type NextRequest } from "next/server";
import { config as appConfig } from "@/lib/config";
import { localSessionCookieName } from "@/lib/auth/local-cookie";
import { checkLocalRequest, checkTeamRequest, guardedRequest } from "@/app/_server/http/request-guard";
import { isLoopbackHost } from "@/lib/net";

const SIGN_IN_PAGE = "/sign-in";

/** The sign-in page, then back to where the browser was going. */
function signInPath(request: NextRequest) {
  return `${SIGN_IN_PAGE}?${new URLSearchParams({ next: request.nextUrl.pathname + request.nextUrl.search })}`;
}

export function proxy(request: NextRequest) {
  const settings = appConfig();
  const path = request.nextUrl.pathname;
  const refusal = settings.AUTH_MODE === "local" ? checkLocalRequest(guardedRequest(request)) : checkTeamRequest(guardedRequest(request), settings.APP_URL);
  if (refusal) return NextResponse.json({ error: refusal.error, field: refusal.field }, { status: refusal.status });
  const isPage = !path.startsWith("/api/") && path !== SIGN_IN_PAGE;

  if (settings.AUTH_MODE === "local") {
    if (path === SIGN_IN_PAGE && request.nextUrl.searchParams.has("token")) {
      return NextResponse.rewrite(new URL(`/api/local-sign-in${request.nextUrl.search}`, request.nextUrl));
    }
    // On the host name the browser used (127.0.0.1 or localhost; the guard let only loopback names
    // through): its cookies are that name's.
    const host = request.headers.get("host") ?? "";
    if (isPage && !request.cookies.has(localSessionCookieName(host))) return NextResponse.redirect(new URL(signInPath(request), `${request.nextUrl.protocol}//${host}`));
    return NextResponse.next();
  }

  if (settings.INNGEST_DEV && path.startsWith("/api/inngest") && !isLoopbackHost(request.headers.get("host") ?? "")) {
    // A dev engine's calls are unsigned: only the engine on this machine may make them (lib/config.ts
    // allows a dev engine in team mode only when the app and its APP_URL are on loopback).
    return NextResponse.json({ error: "the engine endpoint answers only on this machine", field: "host" }, { status: 403 });
  }
  if (isPage && !getSessionCookie(request)) return NextResponse.redirect(new URL(signInPath(request), settings.APP_URL));
  return NextResponse.next();
}

export const config = {
  // Static build output, public/'s assets and what nodes download to install the vm-agent
  // (GET only, public code, app/api/vm-agent/) are the same for everyone; everything else is guarded.
  matcher: ["/((?!_next/static|favicon.ico|icon.svg|manifest.webmanifest|api/vm-agent/).*)"],
};
