import { spawn } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseVmAgentConfig } from "./config";
import { testKey } from "./test-support";

async function baseEnv(): Promise<Record<string, string>> {
  const { publicJwk } = await testKey();
  return {
    VM_AGENT_PORT: "7070",
    NODE_ID: "node_1",
    CONTROL_PLANE_URL: "http://127.0.0.1:3000",
    NODE_CALLBACK_TOKEN: "node-token",
    CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(publicJwk),
    VM_AGENT_WORK_DIR: path.join(os.tmpdir(), "vm-agent-config-test"),
  };
}

describe("configuration", () => {
  it("applies the defaults", async () => {
    const config = parseVmAgentConfig(await baseEnv());
    expect(config).toMatchObject({
      VM_AGENT_HOST: "127.0.0.1",
      VM_AGENT_PORT: 7070,
      SETUP_SCRIPT: ".agent/setup.sh",
      SETUP_TIMEOUT: 600_000,
      AGENT_TIMEOUT: 4 * 3_600_000,
      GIT_PUSH: "auto",
      CALLBACK_MAX_ATTEMPTS: 5,
      CALLBACK_MAX_ELAPSED: 120_000,
      CALLBACK_BASE_DELAY: 1_000,
      CALLBACK_MAX_DELAY: 30_000,
      GIT_AUTHOR_NAME: "Coding Agent",
      GIT_AUTHOR_EMAIL: "agent@localhost",
      HEARTBEAT_INTERVAL: 15_000,
      STOP_GRACE: 5_000,
      INTERRUPT_GRACE: 10_000,
      VM_AGENT_LOG_MAX_BYTES: 10 * 1024 * 1024,
      VM_AGENT_LOG_KEEP: 3,
      TLS_CERTIFICATE_LIFETIME: 3650 * 86_400_000,
    });
    expect(config.SCRIPT_AGENT_COMMAND).toBeUndefined();
    expect(config.VM_AGENT_LOG_FILE).toBeUndefined();
    expect(config.CONTROL_PLANE_PUBLIC_JWK).toMatchObject({ kty: "EC", crv: "P-256" });
  });

  it("reads durations and treats an empty variable as unset", async () => {
    const config = parseVmAgentConfig({ ...(await baseEnv()), AGENT_TIMEOUT: "90s", CALLBACK_BASE_DELAY: "250ms", SCRIPT_AGENT_COMMAND: "", GIT_PUSH: "never" });
    expect(config).toMatchObject({ AGENT_TIMEOUT: 90_000, CALLBACK_BASE_DELAY: 250, GIT_PUSH: "never" });
    expect(config.SCRIPT_AGENT_COMMAND).toBeUndefined();
  });

  it("reads the heartbeat interval (0 turns heartbeats off) and the log file's bounds", async () => {
    const env = { ...(await baseEnv()), HEARTBEAT_INTERVAL: "0", VM_AGENT_LOG_FILE: "/var/log/vm-agent.log", VM_AGENT_LOG_MAX_BYTES: "1048576", VM_AGENT_LOG_KEEP: "0" };
    expect(parseVmAgentConfig(env)).toMatchObject({ HEARTBEAT_INTERVAL: 0, VM_AGENT_LOG_FILE: "/var/log/vm-agent.log", VM_AGENT_LOG_MAX_BYTES: 1_048_576, VM_AGENT_LOG_KEEP: 0 });
    expect(parseVmAgentConfig({ ...env, HEARTBEAT_INTERVAL: "30s" }).HEARTBEAT_INTERVAL).toBe(30_000);
  });

  it.each(["https://control.example.com", "http://127.0.0.1:3000", "http://127.8.9.10:3000", "http://localhost:3000", "http://[::1]:3000"])(
    "takes %s as the control plane's URL (https, or plain http on this machine only)",
    async (url) => expect(parseVmAgentConfig({ ...(await baseEnv()), CONTROL_PLANE_URL: url }).CONTROL_PLANE_URL).toBe(url),
  );

  it.each([
    [{ VM_AGENT_PORT: undefined }, /VM_AGENT_PORT: is required/],
    [{ VM_AGENT_PORT: "80a" }, /VM_AGENT_PORT: must be a whole number/],
    [{ VM_AGENT_PORT: "70000" }, /VM_AGENT_PORT/],
    [{ NODE_ID: "../node" }, /NODE_ID/],
    [{ CONTROL_PLANE_URL: "not a url" }, /CONTROL_PLANE_URL/],
    [{ CONTROL_PLANE_URL: "http://control.example.com" }, /CONTROL_PLANE_URL: must be https:\/\/ for a control plane that is not on this machine \(control\.example\.com/],
    [{ CONTROL_PLANE_URL: "http://10.0.0.7:3000" }, /CONTROL_PLANE_URL: must be https:\/\//],
    [{ CONTROL_PLANE_URL: "http://0.0.0.0:3000" }, /CONTROL_PLANE_URL: must be https:\/\//],
    [{ CONTROL_PLANE_URL: "ftp://127.0.0.1" }, /CONTROL_PLANE_URL: must be an https:\/\/ URL/],
    [{ TLS_CERTIFICATE_LIFETIME: "forever" }, /TLS_CERTIFICATE_LIFETIME: must be a duration/],
    [{ CONTROL_PLANE_PUBLIC_JWK: "{" }, /CONTROL_PLANE_PUBLIC_JWK: is not JSON/],
    [{ CONTROL_PLANE_PUBLIC_JWK: JSON.stringify({ kty: "EC", d: "secret" }) }, /CONTROL_PLANE_PUBLIC_JWK: must be a public JWK/],
    [{ GIT_PUSH: "always" }, /GIT_PUSH/],
    [{ SETUP_TIMEOUT: "soon" }, /SETUP_TIMEOUT: must be a duration/],
    [{ CALLBACK_MAX_ATTEMPTS: "0" }, /CALLBACK_MAX_ATTEMPTS/],
    [{ HEARTBEAT_INTERVAL: "often" }, /HEARTBEAT_INTERVAL: must be a duration/],
    [{ VM_AGENT_LOG_MAX_BYTES: "0" }, /VM_AGENT_LOG_MAX_BYTES/],
    [{ VM_AGENT_LOG_KEEP: "-1" }, /VM_AGENT_LOG_KEEP/],
  ])("refuses %j, naming the variable", async (change, message) => {
    const env = { ...(await baseEnv()), ...change };
    expect(() => parseVmAgentConfig(env)).toThrow(message);
  });

  it("makes the daemon exit 1 with a message naming the variable", async () => {
    const env: Record<string, string> = { PATH: process.env.PATH!, HOME: process.env.HOME ?? "/tmp", ...(await baseEnv()), VM_AGENT_PORT: "not-a-port" };
    const child = spawn(process.execPath, ["--import", "tsx", path.resolve(import.meta.dirname, "main.ts")], { env: env as NodeJS.ProcessEnv, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(code).toBe(1);
    const line = JSON.parse(output.trim().split("\n").at(-1)!) as { level: string; msg: string };
    expect(line.level).toBe("error");
    expect(line.msg).toContain("VM_AGENT_PORT");
  });
});
