import { describe, expect, it } from "vitest";
import { newKeyRingEntry, open, parseKeyRing, rewrap, seal } from "./envelope";

describe("envelope encryption", () => {
  const first = parseKeyRing(newKeyRingEntry("k1"));

  it("seals a value that only its key ring and context open, never as plain text", () => {
    const sealed = seal(first, "sk-ant-secret", "u1|ANTHROPIC_API_KEY");
    expect(JSON.stringify(sealed)).not.toContain("sk-ant-secret");
    expect(open(first, sealed, "u1|ANTHROPIC_API_KEY")).toBe("sk-ant-secret");
    // Moved to another person's row, it does not open.
    expect(() => open(first, sealed, "u2|ANTHROPIC_API_KEY")).toThrow();
    expect(() => open(parseKeyRing(newKeyRingEntry("k1")), sealed, "u1|ANTHROPIC_API_KEY")).toThrow();
    // Two seals of one value differ.
    expect(seal(first, "same", "c").ciphertext).not.toBe(seal(first, "same", "c").ciphertext);
  });

  it("rotates: a new key in front wraps new secrets, old ones still open and are re-wrapped without touching the value", () => {
    const sealed = seal(first, "ghp_token", "u1|GITHUB_TOKEN");
    const rotated = parseKeyRing(`${newKeyRingEntry("k2")},${[...first.keys].map(([id, key]) => `${id}:${key.toString("base64")}`)[0]}`);
    expect(rotated.currentId).toBe("k2");
    expect(open(rotated, sealed, "u1|GITHUB_TOKEN")).toBe("ghp_token");
    const moved = rewrap(rotated, sealed, "u1|GITHUB_TOKEN");
    expect(moved).toMatchObject({ keyId: "k2", ciphertext: sealed.ciphertext });
    // Once every secret is re-wrapped, the old key can leave the ring.
    const onlyNew = parseKeyRing([...rotated.keys].filter(([id]) => id === "k2").map(([id, key]) => `${id}:${key.toString("base64")}`).join(","));
    expect(open(onlyNew, moved, "u1|GITHUB_TOKEN")).toBe("ghp_token");
    expect(() => open(onlyNew, sealed, "u1|GITHUB_TOKEN")).toThrow(/no longer has/);
  });

  it("refuses a malformed key ring, saying what is wrong", () => {
    expect(() => parseKeyRing("")).toThrow(/empty/);
    expect(() => parseKeyRing("k1:c2hvcnQ=")).toThrow(/32 bytes/);
    expect(() => parseKeyRing("nocolon")).toThrow(/id:base64key/);
    const entry = newKeyRingEntry("k1");
    expect(() => parseKeyRing(`${entry},${entry}`)).toThrow(/twice/);
  });
});
