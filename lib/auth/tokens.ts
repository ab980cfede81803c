/**
 * The control plane's side of the node tokens: it holds the private key and mints every token, and
 * verifies the callbacks' ones. Their format, and what a vm-agent checks, is lib/contracts/tokens.ts.
 */
import { SignJWT, type CryptoKey as JoseKey } from "jose";
import { ALG, Audience, claim, ISSUER, verifyToken, type AudienceName, type VerifyKey } from "../contracts/tokens";

export type SigningKey = { kid: string; privateKey: JoseKey | CryptoKey };

async function sign(key: SigningKey, audience: AudienceName, claims: Record<string, string>, ttlMs: number) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000))
    .sign(key.privateKey);
}

export const signNodeManagementToken = (key: SigningKey, c: { nodeId: string; workspaceId?: string }, ttlMs: number) =>
  sign(key, Audience.nodeManagement, { node: c.nodeId, ...(c.workspaceId ? { workspace: c.workspaceId } : {}) }, ttlMs);

export const signWorkspaceCallbackToken = (key: SigningKey, c: { workspaceId: string }, ttlMs: number) =>
  sign(key, Audience.workspaceCallback, { workspace: c.workspaceId }, ttlMs);

export async function verifyWorkspaceCallbackToken(key: VerifyKey, token: string) {
  return { workspaceId: claim(await verifyToken(key, Audience.workspaceCallback, token), "workspace") };
}

export const signNodeCallbackToken = (key: SigningKey, c: { nodeId: string }, ttlMs: number) =>
  sign(key, Audience.nodeCallback, { node: c.nodeId }, ttlMs);

export async function verifyNodeCallbackToken(key: VerifyKey, token: string) {
  return { nodeId: claim(await verifyToken(key, Audience.nodeCallback, token), "node") };
}
