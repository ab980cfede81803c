/**
 * What every request must look like before any route sees it (`proxy.ts` applies it).
 *
 * Local mode serves loopback only, and the signed-in browser (its session cookie, lib/auth/local.ts;
 * every route checks a credential, app/_server/http/caller.ts) must not be turned against it: a page on
 * another site, or on another port of this machine (the same site, so SameSite lets the cookie
 * through), can send "simple" requests to 127.0.0.1 (CSRF), and a name it controls can be
 * re-pointed at 127.0.0.1 so its scripts read our answers (DNS rebinding). Hence: only loopback
 * `Host` names; a state change only as JSON (a browser sends JSON cross-origin only after a CORS
 * preflight, which we never grant) and never from a foreign `Origin` or a cross-site fetch. Scripts
 * that send neither `Origin` nor `Sec-Fetch-Site` keep working. Bearer-authenticated calls (the
 * local token, vm-agent callbacks) carry no ambient credential, so a page cannot forge them; they
 * are held to the `Host` rule only.
 */
import { isLoopbackHost } from "@/lib/net";

export type GuardedRequest = {
  method: string;
  /** The `Host` header (host[:port]). */
  host: string | null;
  origin: string | null;
  contentType: string | null;
  /** `Sec-Fetch-Site`: browsers say where a request comes from. */
  fetchSite: string | null;
  /** Whether the request has a body (a content length above zero, or a chunked body). */
  hasBody: boolean;
  hasBearerToken: boolean;
};

export type GuardRefusal = { status: 403 | 415; error: string; field: "host" | "origin" | "sec-fetch-site" | "content-type" };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

function originHost(origin: string): string | undefined {
  try {
    return new URL(origin).host;
  } catch {
    return undefined;
  }
}

const isJson = (contentType: string | null) => !!contentType && /^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(contentType.trim());

/** Undefined when the request may go on; otherwise why not, naming the header at fault. */
export function checkLocalRequest(request: GuardedRequest): GuardRefusal | undefined {
  if (!request.host || !isLoopbackHost(request.host)) {
    return {
      status: 403,
      field: "host",
      error: `this control plane runs in local mode and answers only to localhost, not to Host ${JSON.stringify(request.host ?? "")}; start it with AUTH_MODE=team to serve it under another name`,
    };
  }
  return checkStateChange(request, request.host.toLowerCase());
}

/**
 * Team mode: people are signed in, so any name may reach the app (it sits behind a proxy), but a
 * signed-in browser must still not be driven by another site: the same state-change rules, with
 * the app's own address (APP_URL) as the only origin.
 */
export function checkTeamRequest(request: GuardedRequest, appUrl: string): GuardRefusal | undefined {
  return checkStateChange(request, new URL(appUrl).host.toLowerCase());
}

/** A state change only from `ownHost`'s pages (or a script that names no origin), and only as JSON. */
function checkStateChange(request: GuardedRequest, ownHost: string): GuardRefusal | undefined {
  if (SAFE_METHODS.has(request.method.toUpperCase()) || request.hasBearerToken) return undefined;
  if (request.origin !== null && (request.origin === "null" || originHost(request.origin) !== ownHost)) {
    return { status: 403, field: "origin", error: `a request from ${request.origin} may not change anything here: only this app's own pages and scripts may` };
  }
  if (request.fetchSite !== null && !["same-origin", "none"].includes(request.fetchSite)) {
    return { status: 403, field: "sec-fetch-site", error: `a ${request.fetchSite} request may not change anything here: only this app's own pages and scripts may` };
  }
  if (request.hasBody && !isJson(request.contentType)) {
    return { status: 415, field: "content-type", error: `send the request body as JSON (content-type: application/json), not ${request.contentType ?? "without a content type"}` };
  }
  return undefined;
}

/** The guard's view of a Fetch API request. */
export function guardedRequest(request: Request): GuardedRequest {
  const length = request.headers.get("content-length");
  return {
    method: request.method,
    host: request.headers.get("host"),
    origin: request.headers.get("origin"),
    contentType: request.headers.get("content-type"),
    fetchSite: request.headers.get("sec-fetch-site"),
    // Headers only: a bodiless DELETE from a browser has neither, while the proxy's Request still has a (empty) body stream.
    hasBody: length !== null ? Number(length) > 0 : request.headers.has("transfer-encoding"),
    hasBearerToken: /^bearer\s+\S/i.test(request.headers.get("authorization") ?? ""),
  };
}
