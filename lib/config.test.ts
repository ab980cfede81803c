import { describe, expect, it } from "vitest";
import { ConfigError, ConfigSchema, parseConfig } from "./config";
import { parseDuration } from "./contracts/duration";
import { toInngestDuration } from "./duration";
import { newKeyRingEntry } from "./envelope";

describe("parseConfig", () => {
  it("fills every default from ARCHITECTURE.md on an empty environment", () => {
    const c = parseConfig({});
    expect(c).toMatchObject({
      WORKSPACE_READY_TIMEOUT: 30 * 60_000,
      NODE_AGENT_READY_TIMEOUT: 15 * 60_000,
      NODE_PROVISIONING_TIMEOUT: 30 * 60_000,
      SESSION_IDLE_TIMEOUT: 15 * 60_000,
      NODE_WARM_TIMEOUT: 30 * 60_000,
      MAX_AUTO_NODE_LIFETIME: 4 * 3_600_000,
      MAX_WORKSPACES_PER_NODE: 3,
      MAX_NODES_PER_USER: 10,
      NODE_CPU_THRESHOLD: 80,
      NODE_MEMORY_THRESHOLD: 85,
      HEARTBEAT_STALE_AFTER: 180_000,
      BRANCH_PREFIX: "agents/",
      BRANCH_NAME_MAX: 60,
      READY_RECHECK_INTERVAL: 30_000,
      INNGEST_LEGACY_SERVER: true,
      NODE_PROVIDER: "local",
    });
    expect(c.DATABASE_URL).toBeUndefined();
  });

  it("hetzner: needs the control plane's source addresses for the nodes' firewall, read as CIDRs", () => {
    expect(() => parseConfig({ NODE_PROVIDER: "hetzner" })).toThrow(/CONTROL_PLANE_SOURCE_IPS: is required with NODE_PROVIDER=hetzner/);
    const c = parseConfig({ NODE_PROVIDER: "hetzner", APP_URL: "https://agents.example.test", CONTROL_PLANE_SOURCE_IPS: "203.0.113.7, 198.51.100.0/24 2001:DB8::/64" });
    expect(c.CONTROL_PLANE_SOURCE_IPS).toEqual(["203.0.113.7/32", "198.51.100.0/24", "2001:db8::/64"]);
    expect(c).toMatchObject({ HETZNER_API_URL: "https://api.hetzner.cloud/v1", HETZNER_SERVER_TYPE: "cx22", HETZNER_LOCATION: "fsn1", NODE_AGENT_PORT: 8443, NODE_PROVISIONING_RETRIES: 5 });
    // Its nodes call back across the network: over TLS only.
    expect(() => parseConfig({ NODE_PROVIDER: "hetzner", CONTROL_PLANE_SOURCE_IPS: "203.0.113.7" })).toThrow(/APP_URL: must be https:\/\/ with NODE_PROVIDER=hetzner/);
    expect(() => parseConfig({ CONTROL_PLANE_SOURCE_IPS: "203.0.113.7/33,example.com" })).toThrow(/"203\.0\.113\.7\/33" is not an IPv4 or IPv6 address or CIDR.*"example\.com" is not/);
  });

  it("reads durations, numbers and booleans from text", () => {
    const c = parseConfig({ READY_RECHECK_INTERVAL: "1s", MAX_WORKSPACES_PER_NODE: "5", INNGEST_LEGACY_SERVER: "0", NODE_WARM_TIMEOUT: "0" });
    expect(c.READY_RECHECK_INTERVAL).toBe(1000);
    expect(c.MAX_WORKSPACES_PER_NODE).toBe(5);
    expect(c.INNGEST_LEGACY_SERVER).toBe(false);
    expect(c.NODE_WARM_TIMEOUT).toBe(0);
    // Checkpointing follows the engine unless it is set: off for the legacy server, on for a current one.
    expect(parseConfig({}).INNGEST_CHECKPOINTING).toBeUndefined();
    expect(parseConfig({ INNGEST_CHECKPOINTING: "0" }).INNGEST_CHECKPOINTING).toBe(false);
    expect(() => parseConfig({ INNGEST_CHECKPOINTING: "maybe" })).toThrow(/INNGEST_CHECKPOINTING/);
  });

  it("refuses what it cannot read as the setting's kind, saying what it takes, instead of reading something else", () => {
    expect(() => parseConfig({ TASK_QUEUE_TIMEOUT: "abc" })).toThrow(/^invalid configuration: TASK_QUEUE_TIMEOUT: must be a duration such as 30s, 15m/);
    // Read literally these were 1.5 (refused as not whole), 1000 and 16.
    for (const text of ["1.5", "1e3", "0x10", "-1"]) expect(() => parseConfig({ MAX_WORKSPACES_PER_NODE: text }), text).toThrow(/MAX_WORKSPACES_PER_NODE: must be a whole number of at least 1/);
    expect(() => parseConfig({ PORT: "70000" })).toThrow(/PORT: must be a port number from 1 to 65535/);
    expect(() => parseConfig({ NODE_PROVIDER: "aws" })).toThrow(/NODE_PROVIDER: must be one of local, hetzner/);
    expect(() => parseConfig({ INNGEST_LEGACY_SERVER: "maybe" })).toThrow(/INNGEST_LEGACY_SERVER: must be 1, 0, true, false, yes or no/);
    expect(() => parseConfig({ GITHUB_URL: "github.com" })).toThrow(/GITHUB_URL: must be an http:\/\/ or https:\/\/ URL/);
    expect(parseConfig({ PORT: "3001", INNGEST_PORT: "8289", INNGEST_LEGACY_SERVER: "No", NODE_CPU_THRESHOLD: "72.5" })).toMatchObject({ PORT: 3001, INNGEST_PORT: 8289, INNGEST_LEGACY_SERVER: false, NODE_CPU_THRESHOLD: 72.5 });
  });

  it("names every bad variable at once", () => {
    try {
      parseConfig({ WORKSPACE_READY_TIMEOUT: "soon", MAX_NODES_PER_USER: "0", APP_URL: "not a url", NODE_CPU_THRESHOLD: "120" });
      expect.unreachable("parseConfig accepted a bad environment");
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      const message = (error as Error).message;
      for (const name of ["WORKSPACE_READY_TIMEOUT", "MAX_NODES_PER_USER", "APP_URL", "NODE_CPU_THRESHOLD"]) expect(message).toContain(name);
    }
  });

  it("reads an empty DATA_DIR as unset: the data folder is .data, not the current folder", () => {
    expect(parseConfig({ DATA_DIR: "" }).DATA_DIR).toBe(".data");
    expect(parseConfig({ DATA_DIR: "  " }).DATA_DIR).toBe(".data");
  });

  it("refuses a branch prefix without a trailing slash", () => {
    expect(() => parseConfig({ BRANCH_PREFIX: "agents" })).toThrow(/BRANCH_PREFIX/);
  });
});

describe("the mode", () => {
  it("is local by default, bound to loopback", () => {
    expect(parseConfig({})).toMatchObject({ AUTH_MODE: "local", HOST: "127.0.0.1" });
    expect(parseConfig({ HOST: "::1" }).HOST).toBe("::1");
  });

  it("refuses a network address in local mode, saying how to turn sign-in on", () => {
    expect(() => parseConfig({ HOST: "0.0.0.0" })).toThrow(/HOST: local mode is for the one person on this machine.*AUTH_MODE=team/);
    expect(() => parseConfig({ HOST: "192.168.1.20" })).toThrow(ConfigError);
  });

  const team = { AUTH_MODE: "team", AUTH_SECRET: "s".repeat(32), GITHUB_CLIENT_ID: "Iv1.abc", GITHUB_CLIENT_SECRET: "secret", SECRETS_KEYS: newKeyRingEntry("k1") };

  it("needs sign-in's settings in team mode, naming each missing one", () => {
    expect(() => parseConfig({ AUTH_MODE: "team" })).toThrow(/AUTH_SECRET: is required in team mode.*GITHUB_CLIENT_ID: is required.*GITHUB_CLIENT_SECRET: is required.*SECRETS_KEYS: is required/);
    expect(() => parseConfig({ ...team, SECRETS_KEYS: "k1:c2hvcnQ=" })).toThrow(/SECRETS_KEYS: key k1 must be 32 bytes/);
    expect(() => parseConfig({ ...team, AUTH_SECRET: "short" })).toThrow(/AUTH_SECRET: must be at least 32 characters/);
    expect(parseConfig(team)).toMatchObject({ AUTH_MODE: "team", GITHUB_URL: "https://github.com", GITHUB_API_URL: "https://api.github.com" });
  });

  it("lets team mode serve a network only with an engine that signs its calls", () => {
    expect(parseConfig({ ...team, HOST: "0.0.0.0", INNGEST_SIGNING_KEY: "signkey-prod-00" }).HOST).toBe("0.0.0.0");
    expect(() => parseConfig({ ...team, HOST: "0.0.0.0", INNGEST_DEV: "1" })).toThrow(/INNGEST_DEV: team mode on a network needs an engine that signs its calls/);
    // Behind a reverse proxy on this machine (APP_URL its public address), whatever Host it sends: a signing engine only.
    expect(() => parseConfig({ ...team, APP_URL: "https://agents.example.com", INNGEST_DEV: "1" })).toThrow(/INNGEST_DEV: team mode on a network needs an engine that signs/);
    expect(() => parseConfig({ ...team, APP_URL: "https://agents.example.com", INNGEST_DEV: "http://127.0.0.1:8288" })).toThrow(ConfigError);
    expect(parseConfig({ ...team, APP_URL: "https://agents.example.com", INNGEST_DEV: "0", INNGEST_SIGNING_KEY: "signkey-prod-00" }).AUTH_MODE).toBe("team");
    // Only on this machine (the tests' team systems), the dev engine is allowed.
    expect(parseConfig({ ...team, INNGEST_DEV: "1" }).AUTH_MODE).toBe("team");
  });

  it("gives local mode's one-time sign-in links a lifetime", () => {
    expect(parseConfig({}).LOCAL_SIGN_IN_TTL).toBe(3_600_000);
    expect(parseConfig({ LOCAL_SIGN_IN_TTL: "5m" }).LOCAL_SIGN_IN_TTL).toBe(300_000);
    expect(() => parseConfig({ LOCAL_SIGN_IN_TTL: "soon" })).toThrow(/LOCAL_SIGN_IN_TTL: must be a duration/);
  });
});

describe("durations", () => {
  it.each([
    ["250ms", 250],
    ["30s", 30_000],
    ["15m", 900_000],
    ["4h", 14_400_000],
    ["1d", 86_400_000],
    ["1500", 1500],
    ["1.5s", 1500],
  ])("parses %s", (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(["", "soon", "-1s", "5 minutes", "1w"])("refuses %j", (text) => expect(parseDuration(text)).toBeUndefined());

  it("formats for Inngest in the largest whole unit, never below one second", () => {
    expect(toInngestDuration(3_600_000)).toBe("1h");
    expect(toInngestDuration(900_000)).toBe("15m");
    expect(toInngestDuration(30_000)).toBe("30s");
    expect(toInngestDuration(1_500)).toBe("2s");
    expect(toInngestDuration(10)).toBe("1s");
  });
});

describe("the settings table", () => {
  // Every key of the schema, so a new setting is covered as soon as it is added.
  const keys = Object.keys(ConfigSchema.shape);
  /** Settings that take any text (names, secrets, paths, connection strings): nothing to refuse. Checked below to accept anything. */
  const freeText = new Set([
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "DATABASE_URL",
    "DATABASE_DIRECT_URL",
    "DATA_DIR",
    "DATABASE_WS_PROXY",
    "INNGEST_DEV",
    "INNGEST_SIGNING_KEY",
    "INNGEST_EVENT_KEY",
    "VM_AGENT_CACHE_DIR",
    // Set by Vercel itself: any value means a Vercel host.
    "VERCEL",
  ]);
  const garbage = "abc%";
  /** zod's own messages say what failed, not what the setting takes. */
  const zodDefault = /^(Invalid|Too (small|big)|Expected)/;

  it("reads an empty value as unset, and refuses a value of the wrong kind naming the setting and what it takes", () => {
    const unset = parseConfig({});
    const problems: string[] = [];
    for (const key of keys) {
      for (const empty of ["", " "]) {
        try {
          const parsed = parseConfig({ [key]: empty });
          if (JSON.stringify(parsed) !== JSON.stringify(unset)) problems.push(`${key}=${JSON.stringify(empty)} is not the same as unset`);
        } catch (error) {
          problems.push(`${key}=${JSON.stringify(empty)} is refused: ${(error as Error).message}`);
        }
      }
      try {
        parseConfig({ [key]: garbage });
        if (!freeText.has(key)) problems.push(`${key}=${garbage} is accepted`);
      } catch (error) {
        if (freeText.has(key)) problems.push(`${key} is listed as free text but refuses ${garbage}`);
        const issues = error instanceof ConfigError ? error.issues.filter((issue) => issue.path[0] === key) : [];
        if (!issues.length) problems.push(`${key}=${garbage} is refused without naming it: ${(error as Error).message}`);
        for (const issue of issues) if (zodDefault.test(issue.message)) problems.push(`${key}: "${issue.message}" does not say what it takes`);
        if (!(error as Error).message.includes(`${key}: `)) problems.push(`${key}: the message does not name it: ${(error as Error).message}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
