import { describe, expect, it } from "vitest";
import { isLoopbackAddress, isLoopbackHost } from "./net";

describe("loopback names", () => {
  it.each(["localhost", "localhost:3000", "LOCALHOST:3000", "127.0.0.1", "127.0.0.1:3000", "127.1.2.3:80", "[::1]", "[::1]:3000"])("%s is loopback", (host) => {
    expect(isLoopbackHost(host)).toBe(true);
  });
  it.each(["evil.example", "evil.example:3000", "localhost.evil.example", "127.0.0.1.evil.example", "10.0.0.1:3000", "0.0.0.0:3000", "[::]:3000", ""])("%s is not", (host) => {
    expect(isLoopbackHost(host)).toBe(false);
  });
  it("binding addresses", () => {
    expect(isLoopbackAddress("127.0.0.1")).toBe(true);
    expect(isLoopbackAddress("::1")).toBe(true);
    expect(isLoopbackAddress("0.0.0.0")).toBe(false);
    expect(isLoopbackAddress("::")).toBe(false);
  });
});
