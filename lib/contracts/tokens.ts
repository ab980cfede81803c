/**
 * The signed tokens between the control plane and its nodes (ES256 JWTs via jose), as both sides
 * read them: issuer, algorithm, audiences, and the checks a vm-agent makes on the management calls
 * it receives. The control plane holds the private key and mints them (lib/auth/tokens.ts); a
 * vm-agent gets only the public JWK, so a node can verify management calls but cannot mint tokens
 * for itself or other nodes.
 */
import { jwtVerify, errors, importJWK, type JWK, type CryptoKey as JoseKey } from "jose";

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
export type AudienceName = (typeof Audience)[keyof typeof Audience];

export type VerifyKey = JoseKey | CryptoKey | Uint8Array;

export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TokenError";
  }
}

/** The token's claims when it is signed by `key`, for `audience`, by this issuer and unexpired; a TokenError otherwise. */
export async function verifyToken(key: VerifyKey, audience: AudienceName, token: string) {
  try {
    const { payload } = await jwtVerify(token, key, { issuer: ISSUER, audience, algorithms: [ALG] });
    return payload;
  } catch (error) {
    if (error instanceof errors.JOSEError) throw new TokenError(`invalid ${audience} token: ${error.code}`);
    throw error;
  }
}

/** A claim every token of its kind carries: a non-empty string. */
export function claim(payload: Record<string, unknown>, name: string): string {
  const value = payload[name];
  if (typeof value !== "string" || value === "") throw new TokenError(`token lacks the "${name}" claim`);
  return value;
}

/** Verifies a management token and that it was minted for this node. */
export async function verifyNodeManagementToken(key: VerifyKey, token: string, nodeId: string) {
  const payload = await verifyToken(key, Audience.nodeManagement, token);
  if (claim(payload, "node") !== nodeId) throw new TokenError("token is for another node");
  return { nodeId, workspaceId: typeof payload.workspace === "string" ? payload.workspace : undefined };
}

/** Reads `Authorization: Bearer <token>`; undefined when absent or malformed. */
export function bearerToken(header: string | null | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? "");
  return match?.[1];
}

export const importPublicJwk = (jwk: JWK) => importJWK(jwk, ALG);
