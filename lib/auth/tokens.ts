/**
 * Signed tokens between the control plane and its nodes (ES256 JWTs via jose).
 * The control plane holds the private key; a vm-agent gets only the public JWK, so a node
 * can verify management calls but cannot mint tokens for itself or other nodes.
 */
import { SignJWT, jwtVerify, errors, type JWK, type CryptoKey as JoseKey } from "jose";
import { importJWK } from "jose";

export const ISSUER = "agent-control-plane";
export const ALG = "ES256";

export const Audience = {
  /** Control plane → vm-agent calls. Short-lived. */
  nodeManagement: "node-management",
  /** vm-agent → control plane callbacks about one workspace (ready, failed, agent completion). */
  workspaceCallback: "workspace-callback",
  /** vm-agent → control plane callbacks about the node itself (ready, heartbeat). */
  nodeCallback: "node-callback",
} as const;
type AudienceName = (typeof Audience)[keyof typeof Audience];

export type SigningKey = { kid: string; privateKey: JoseKey | CryptoKey };
export type VerifyKey = JoseKey | CryptoKey | Uint8Array;

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenError";
  }
}

async function sign(key: SigningKey, audience: AudienceName, claims: Record<string, string>, ttlMs: number) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: ALG, kid: key.kid })
    .setIssuer(ISSUER)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(Math.floor((Date.now() + ttlMs) / 1000))
    .sign(key.privateKey);
}

async function verify(key: VerifyKey, audience: AudienceName, token: string) {
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience, algorithms: [ALG] });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenError(`invalid ${audience} token: ${error.code}`);
    throw error;
  }
}

function claim(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== "string" || value === "") throw new TokenError(`token lacks the "${name}" claim`);
  return value;
}

export const signNodeManagementToken = (key: SigningKey, c: { nodeId: string; workspaceId?: string }, ttlMs: number) =>
  sign(key, Audience.nodeManagement, { node: c.nodeId, ...(c.workspaceId ? { workspace: c.workspaceId } : {}) }, ttlMs);

/** Verifies a management token and that it was minted for this node. */
export async function verifyNodeManagementToken(key: VerifyKey, token: string, nodeId: string) {
  const payload = await verify(key, Audience.nodeManagement, token);
  if (claim(payload, "node") !== nodeId) throw new TokenError("token is for another node");
  return { nodeId, workspaceId: typeof payload.workspace === "string" ? payload.workspace : undefined };
}

export const signWorkspaceCallbackToken = (key: SigningKey, c: { workspaceId: string }, ttlMs: number) =>
  sign(key, Audience.workspaceCallback, { workspace: c.workspaceId }, ttlMs);

export async function verifyWorkspaceCallbackToken(key: VerifyKey, token: string) {
  return { workspaceId: claim(await verify(key, Audience.workspaceCallback, token), "workspace") };
}

export const signNodeCallbackToken = (key: SigningKey, c: { nodeId: string }, ttlMs: number) =>
  sign(key, Audience.nodeCallback, { node: c.nodeId }, ttlMs);

export async function verifyNodeCallbackToken(key: VerifyKey, token: string) {
  return { nodeId: claim(await verify(key, Audience.nodeCallback, token), "node") };
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or malformed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1];
}

export const importPublicJwk = (jwk: JWK) => importJWK(jwk, ALG);
