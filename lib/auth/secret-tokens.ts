/**
 * Bearer secrets the control plane makes and shows once (API tokens, a machine's registration
 * token, a node's enrollment token): a prefix that says what the token is for, then 32 random
 * bytes. Only the token's SHA-256 is kept: 32 random bytes need no slow hash, and no table then holds
 * anything that works as the token.
 */
import { createHash, randomBytes } from "node:crypto";

export const newSecretToken = (prefix: string) => `${prefix}${randomBytes(32).toString("base64url")}`;

export const secretTokenHash = (token: string) => createHash("sha256").update(token).digest("hex");
