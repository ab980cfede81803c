/**
 * Local mode's one-time sign-in link (`/sign-in?token=…`, which the proxy hands here): spends the
 * token, sets the session cookie and goes on to `next`; a token that is unknown, expired or spent
 * goes to the sign-in page, which says so and how to get a new link. Team mode signs in with GitHub.
 */
import { runtime } from "@/inngest/runtime";
import { endLocalSession, localTokenFor, redeemSignInToken } from "@/lib/auth/local";
import { localSessionCookie, localSessionCookieName, readCookie } from "@/lib/auth/local-cookie";
import { errorResponse, problem } from "@/app/_server/http/respond";
import { safeNextPath } from "@/app/_lib/next-path";

export const dynamic = "force-dynamic";

/** A relative redirect: the browser stays on the host name it used (127.0.0.1 or localhost), whose cookie jar this is. */
const goTo = (location: string, cookie?: string) =>
  new Response(null, {
    status: 303,
    headers: {
      location,
      "cache-control": "no-store",
      // The token is spent, but it still leaves with no page.
      "referrer-policy": "no-referrer",
      ...(cookie ? { "set-cookie": cookie } : {}),
    },
  });

export async function GET(request: Request) {
  try {
    const rt = await runtime();
    if (rt.config.AUTH_MODE !== "local") return problem(404, "team mode signs in with GitHub");
    const query = new URL(request.url).searchParams;
    const next = safeNextPath(query.get("next") ?? undefined);
    const result = await redeemSignInToken(rt.db, {
      localToken: localTokenFor(rt.config.DATA_DIR),
      token: query.get("token") ?? "",
      sessionTtlMs: rt.config.SESSION_TTL,
      userAgent: request.headers.get("user-agent"),
    });
    if ("refused" in result) return goTo(`/sign-in?error=${result.refused}&next=${encodeURIComponent(next)}`);
    const name = localSessionCookieName(request.headers.get("host") ?? "");
    return goTo(next, localSessionCookie(name, result.session.secret, rt.config.SESSION_TTL));
  } catch (error) {
    return errorResponse(error);
  }
}

/**
 * Signs the browser out: its session ends (a link must be opened again to sign in) and its cookie
 * is cleared. The request guard has already refused other sites (JSON, no foreign Origin).
 */
export async function DELETE(request: Request) {
  try {
    const rt = await runtime();
    if (rt.config.AUTH_MODE !== "local") return problem(404, "team mode signs out at /api/auth/sign-out");
    const name = localSessionCookieName(request.headers.get("host") ?? "");
    const secret = readCookie(request.headers.get("cookie"), name);
    if (secret) await endLocalSession(rt.db, secret);
    return new Response(JSON.stringify({ signedOut: true }), { status: 200, headers: { "content-type": "application/json", "cache-control": "no-store", "set-cookie": localSessionCookie(name, "", 0) } });
  } catch (error) {
    return errorResponse(error);
  }
}
