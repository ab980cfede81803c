/**
 * Local mode's credentials with the real modules: the token file (made once, owner-only, the same
 * for processes that race to make it), one-time sign-in links (signed, expiring, single use) and the
 * sessions they open, against PGlite.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { authSessions } from "@/db/schema";
import { openTestDatabase } from "@/tests/harness/test-database";
import { ensureLocalUser } from "../users";
import { localSessionCookie, localSessionCookieName, readCookie } from "./local-cookie";
import { ensureLocalToken, localSession, localTokenFile, newSignInToken, readLocalToken, redeemSignInToken, sameSecret, signInUrl } from "./local";

const MINUTE = 60_000;

describe("the local token file", () => {
  it("is made once, owner-only, and read back the same", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-token-"));
    expect(readLocalToken(dir)).toBeUndefined();
    const token = ensureLocalToken(dir);
    expect(token).toMatch(/^acpl_[A-Za-z0-9_-]{43}$/);
    expect(fs.statSync(localTokenFile(dir)).mode & 0o777).toBe(0o600);
    expect(ensureLocalToken(dir)).toBe(token);
    expect(readLocalToken(dir)).toBe(token);
    // Nothing but the token is left behind.
    expect(fs.readdirSync(dir)).toEqual(["local-token"]);
  });

  it("is the same for processes that make it at once", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-token-race-"));
    const script = `import { ensureLocalToken } from ${JSON.stringify(path.resolve("lib/auth/local.ts"))}; console.log(ensureLocalToken(${JSON.stringify(dir)}));`;
    const runs = Array.from({ length: 4 }, () => spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" }));
    for (const run of runs) expect(run.status, run.stderr).toBe(0);
    expect(new Set(runs.map((run) => run.stdout.trim())).size).toBe(1);
    expect(readLocalToken(dir)).toBe(runs[0]!.stdout.trim());
  });

  it("refuses an empty file, saying what to do", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-token-empty-"));
    fs.writeFileSync(localTokenFile(dir), "\n", { mode: 0o600 });
    expect(() => ensureLocalToken(dir)).toThrow(/is empty; delete it/);
  });

  it("compares in constant time", () => {
    expect(sameSecret("acpl_a", "acpl_a")).toBe(true);
    expect(sameSecret("acpl_a", "acpl_b")).toBe(false);
    expect(sameSecret("", "acpl_a")).toBe(false);
  });
});

describe("the session cookie", () => {
  it("is named for the port, so two control planes on one host keep their own", () => {
    expect(localSessionCookieName("127.0.0.1:3000")).toBe("acp_session_3000");
    expect(localSessionCookieName("[::1]:3001")).toBe("acp_session_3001");
    expect(localSessionCookieName("localhost")).toBe("acp_session_80");
    expect(readCookie("a=1; acp_session_3000=acps_x; b=2", "acp_session_3000")).toBe("acps_x");
    expect(readCookie("acp_session_3001=acps_y", "acp_session_3000")).toBeUndefined();
    expect(readCookie(null, "acp_session_3000")).toBeUndefined();
    expect(localSessionCookie("acp_session_3000", "acps_x", 7 * 86_400_000)).toBe("acp_session_3000=acps_x; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800");
  });
});

describe("one-time sign-in links", () => {
  let database: Awaited<ReturnType<typeof openTestDatabase>>;
  const localToken = "acpl_the-token-of-this-test";
  const redeem = (token: string, now?: Date) => redeemSignInToken(database.db, { localToken, token, sessionTtlMs: 60 * MINUTE }, now);

  beforeAll(async () => {
    database = await openTestDatabase();
    await ensureLocalUser(database.db);
  });
  afterAll(async () => database?.close());

  it("signs in once: a session whose cookie value is kept only as a hash; the link again is refused", async () => {
    const url = new URL(signInUrl("http://127.0.0.1:3000", localToken, 5 * MINUTE, "/nodes"));
    expect(url.pathname).toBe("/sign-in");
    expect(url.searchParams.get("next")).toBe("/nodes");
    const token = url.searchParams.get("token")!;
    const first = await redeem(token);
    if (!("session" in first)) throw new Error(`refused: ${first.refused}`);
    expect(first.session.secret).toMatch(/^acps_/);
    expect(await localSession(database.db, first.session.secret)).toEqual({ sessionId: first.session.id });
    const stored = await database.db.select({ token: authSessions.token }).from(authSessions);
    expect(stored.map((row) => row.token)).not.toContain(first.session.secret);
    expect(await redeem(token)).toEqual({ refused: "used" });
    // Two at once: one session.
    const raced = newSignInToken(localToken, 5 * MINUTE);
    const both = await Promise.all([redeem(raced), redeem(raced)]);
    expect(both.filter((r) => "session" in r)).toHaveLength(1);
    expect(both.filter((r) => "refused" in r)).toEqual([{ refused: "used" }]);
  });

  it("refuses a link past its expiry, one signed with another token, and a tampered one", async () => {
    const now = Date.now();
    expect(await redeem(newSignInToken(localToken, MINUTE, now), new Date(now + MINUTE + 1))).toEqual({ refused: "expired" });
    expect(await redeem(newSignInToken("acpl_another-machine", MINUTE))).toEqual({ refused: "invalid" });
    const [nonce, expiry, mac] = newSignInToken(localToken, MINUTE).split(".");
    expect(await redeem(`${nonce}.${Number(expiry) + 3_600_000}.${mac}`)).toEqual({ refused: "invalid" });
    expect(await redeem("")).toEqual({ refused: "invalid" });
    expect(await redeem("x".repeat(5000))).toEqual({ refused: "invalid" });
  });

  it("knows no session for an unknown, a malformed or an expired cookie", async () => {
    expect(await localSession(database.db, "acps_unknown")).toBeUndefined();
    expect(await localSession(database.db, "not-a-session")).toBeUndefined();
    const now = Date.now();
    const old = await redeemSignInToken(database.db, { localToken, token: newSignInToken(localToken, MINUTE, now - 2 * MINUTE + 1), sessionTtlMs: MINUTE }, new Date(now - 2 * MINUTE + 2));
    if (!("session" in old)) throw new Error(`refused: ${old.refused}`);
    expect(await localSession(database.db, old.session.secret)).toBeUndefined();
  });
});
