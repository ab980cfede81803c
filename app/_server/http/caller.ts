/**
 * Who is asking. Local mode: the one local user, when the request proves it is them (loopback is
 * no proof: every process on the machine reaches it): the local token as a bearer token, or the
 * session cookie a one-time sign-in link set (lib/auth/local.ts); anything else is 401. Team mode: a personal API token (`Authorization: Bearer acp_…`), or
 * else a signed-in browser's session cookie; anything else is 401. A live stream asks
 * `callerStillValid` again while it runs, so a revoked token or ended session loses its streams too.
 */
import { apiTokenActive, authenticateApiToken } from "@/lib/auth/api-tokens";
import { bearerToken } from "@/lib/contracts/tokens";
import { LOCAL_SIGN_IN_HELP, localSession, localTokenFor, sameSecret } from "@/lib/auth/local";
import { localSessionCookieName, readCookie } from "@/lib/auth/local-cookie";
import { sessionActive, sessionUser } from "@/lib/auth/sign-in";
import type { Runtime } from "@/lib/runtime";
import { getUser, LOCAL_USER, type Role } from "@/lib/users";
import { HttpError } from "./respond";

export type Caller = { userId: string; role: Role } & ({ via: "local" } | { via: "token"; tokenId: string } | { via: "session"; sessionId: string });

export async function identifyCaller(rt: Runtime, request: Request): Promise<Caller> {
  if (rt.config.AUTH_MODE === "local") return identifyLocalCaller(rt, request);
  const token = bearerToken(request.headers.get("authorization"));
  if (token) {
    const found = await authenticateApiToken(rt.db, token);
    const user = found && (await getUser(rt.db, { id: found.userId }));
    if (!found || !user) throw new HttpError(401, "this API token is not valid (unknown or revoked)", "authorization");
    return { userId: user.id, role: user.role, via: "token", tokenId: found.tokenId };
  }
  const session = await sessionUser(rt.db, rt.config, request.headers);
  const user = session && (await getUser(rt.db, { id: session.userId }));
  if (session && user) return { userId: user.id, role: user.role, via: "session", sessionId: session.sessionId };
  throw new HttpError(401, "sign in, or send a personal API token as Authorization: Bearer <token>", "authorization");
}

async function identifyLocalCaller(rt: Runtime, request: Request): Promise<Caller> {
  const token = bearerToken(request.headers.get("authorization"));
  if (token) {
    if (!sameSecret(token, localTokenFor(rt.config.DATA_DIR))) {
      throw new HttpError(401, "this is not the control plane's local token (the one in DATA_DIR/local-token)", "authorization");
    }
    return { userId: LOCAL_USER.id, role: "admin", via: "local" };
  }
  const cookie = readCookie(request.headers.get("cookie"), localSessionCookieName(request.headers.get("host") ?? ""));
  const session = cookie ? await localSession(rt.db, cookie) : undefined;
  if (session) return { userId: LOCAL_USER.id, role: "admin", via: "session", sessionId: session.sessionId };
  throw new HttpError(401, LOCAL_SIGN_IN_HELP, "authorization");
}

/** Whether the caller's credential still holds (a token not revoked since). */
export async function callerStillValid(rt: Runtime, caller: Caller): Promise<boolean> {
  if (caller.via === "token") return apiTokenActive(rt.db, caller.tokenId);
  if (caller.via === "session") return sessionActive(rt.db, caller.sessionId);
  return true;
}
