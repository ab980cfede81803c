/**
 * Local mode's session cookie, without anything that needs the database or the file system (the
 * proxy reads it too). Browsers share cookies between the ports of one host name, so the name
 * carries the port: two control planes on 127.0.0.1:3000 and :3001 do not sign each other out.
 */

/** The port a `Host` header names (80 when it names none). */
function portOf(host: string): string {
  const match = /:(\d+)$/.exec(host.startsWith("[") ? host.slice(host.indexOf("]") + 1) : host);
  return match?.[1] ?? "80";
}

export const localSessionCookieName = (host: string) => `acp_session_${portOf(host)}`;

/** A cookie's value from a `Cookie` header, or undefined. */
export function readCookie(header: string | null, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/**
 * The `Set-Cookie` value: scripts on the page cannot read it (HttpOnly), and no other site's page
 * or link makes the browser send it (SameSite=Strict). Plain http on loopback, so not `Secure`.
 */
export const localSessionCookie = (name: string, value: string, maxAgeMs: number) =>
  `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(maxAgeMs / 1000)}`;
