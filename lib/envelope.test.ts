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

  it("refuses a value whose authentication tag is cut short (GCM checks only the bytes it is given)", () => {
    const sealed = seal(first, "", "u1|GITHUB_TOKEN");
    const raw = Buffer.from(sealed.ciphertext, "base64");
    expect(raw).toHaveLength(12 + 16);
    // iv and the first 4 bytes of the real tag: a 32-bit tag, which a forger can guess.
    for (const tagBytes of [4, 8, 15]) {
      const cut = { ...sealed, ciphertext: raw.subarray(0, 12 + tagBytes).toString("base64") };
      expect(() => open(first, cut, "u1|GITHUB_TOKEN"), `${tagBytes}-byte tag`).toThrow(/tag/);
    }
    expect(open(first, sealed, "u1|GITHUB_TOKEN")).toBe("");
  });

  it("refuses a malformed key ring, saying what is wrong", () => {
    expect(() => parseKeyRing("")).toThrow(/empty/);
    expect(() => parseKeyRing("k1:c2hvcnQ=")).toThrow(/32 bytes/);
    expect(() => parseKeyRing("nocolon")).toThrow(/id:base64key/);
    const entry = newKeyRingEntry("k1");
    expect(() => parseKeyRing(`${entry},${entry}`)).toThrow(/twice/);
  });
});
