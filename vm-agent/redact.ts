/** Hides secret values in text that leaves the node: an agent that prints its key does not publish it. */
export type Redact = (text: string) => string;

export const REDACTED = "[redacted]";

/** Replaces every occurrence of each secret (longest first, so one that contains another goes whole). */
export function redactor(secrets: readonly (string | undefined)[]): Redact {
  // Very short values would redact ordinary words; keys and tokens are far longer.
  const values = [...new Set(secrets.filter((s): s is string => typeof s === "string" && s.length >= 8))].sort((a, b) => b.length - a.length);
  if (!values.length) return (text) => text;
  return (text) => values.reduce((out, value) => out.split(value).join(REDACTED), text);
}
