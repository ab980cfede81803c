import { describe, expect, it } from "vitest";
import { hashedRedactor, hashSecrets, REDACTED, redactor } from "./redact";

const KEY = "sk-ant-api03-Abc123_secret-value-xyz";
const TOKEN = "ghp_OwnersToken0123456789abcdefABCDEF0123";

describe("hashedRedactor", () => {
  it("hides what redactor hides, from hashes that hold no value", () => {
    const hashed = hashSecrets([KEY, TOKEN, "short", undefined]);
    expect(JSON.stringify(hashed)).not.toContain(KEY);
    expect(JSON.stringify(hashed)).not.toContain(TOKEN.slice(4));
    expect(hashed.secrets).toHaveLength(2); // values under 8 characters are not secrets
    const texts = [
      `key=${KEY}`,
      `${KEY}`,
      `${KEY} and ${TOKEN} and ${KEY} again`,
      `été ✓ ${TOKEN}✓ ${KEY.slice(0, -1)} (not the key)`,
      "nothing secret here, short is short",
      "",
      "ab",
    ];
    const byValue = redactor([KEY, TOKEN, "short"]);
    const byHash = hashedRedactor(JSON.parse(JSON.stringify(hashed)) as typeof hashed);
    for (const text of texts) expect(byHash(text), text).toBe(byValue(text));
    expect(byHash(`key=${KEY}!`)).toBe(`key=${REDACTED}!`);
  });

  it("hides overlapping occurrences whole, and keeps earlier values when more are added", () => {
    const first = hashSecrets(["abcdefghabcdefgh"]);
    const byHash = hashedRedactor(first);
    expect(byHash("xxabcdefghabcdefghabcdefghyy")).toBe(`xx${REDACTED}yy`);
    const more = hashSecrets([KEY], first);
    expect(more.salt).toBe(first.salt);
    const both = hashedRedactor(more);
    expect(both(`abcdefghabcdefgh ${KEY}`)).toBe(`${REDACTED} ${REDACTED}`);
    expect(hashSecrets([KEY], more).secrets).toHaveLength(2); // a value added again is not added twice
  });

  it("hides nothing without hashes", () => {
    expect(hashedRedactor(undefined)(`key=${KEY}`)).toBe(`key=${KEY}`);
  });
});
