/** Where sign-in returns to: only a path on this site, never another origin. */

const HOME = "/";
const BASE = "http://same-site.invalid";
/** Browsers read a backslash as "/" and drop tabs and newlines: "/\\evil.example" would leave the site. */
const hasUnsafeCharacter = (text: string) =>
  [...text].some((c) => c === "\\" || c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
/** "/%2f%2fevil.example" is decoded by some servers on the way back; better-auth refuses it too. */
const ENCODED_SEPARATOR = /%(2f|5c)/i;

/**
 * `?next=` as a path to return to: a same-site path that starts with a single `/`; anything else
 * (absent, "//evil.example", "https://evil.example", "/\evil.example") is the tasks page.
 */
export function safeNextPath(value: string | string[] | undefined): string {
  const next = Array.isArray(value) ? value[0] : value;
  if (!next || !next.startsWith("/") || next.startsWith("//") || hasUnsafeCharacter(next)) return HOME;
  const pathEnd = next.search(/[?#]/);
  if (ENCODED_SEPARATOR.test(pathEnd === -1 ? next : next.slice(0, pathEnd))) return HOME;
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return HOME;
  }
  if (url.origin !== BASE) return HOME;
  // Back to the sign-in page would be a loop.
  if (url.pathname === "/sign-in") return HOME;
  return url.pathname + url.search + url.hash;
}
