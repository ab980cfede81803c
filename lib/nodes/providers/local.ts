/**
 * The `local` provider: a vm-agent process on this machine, on a free loopback port. It runs
 * detached in its own process group, so it outlives a web process restart like a real node would.
 */
import { execFile, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { freePort } from "../../net";
import { isAlive } from "../../process";
import type { CreateNodeInput, CreatedNode, NodeProvider } from "../provider";

/** Operator settings of the control plane that also configure its local nodes. */
const PASSED_THROUGH = [
  "PATH",
  "HOME",
  "LANG",
  "TMPDIR",
  "SCRIPT_AGENT_COMMAND",
  "SETUP_SCRIPT",
  "SETUP_TIMEOUT",
  "AGENT_TIMEOUT",
  "GIT_PUSH",
  "GIT_AUTHOR_NAME",
  "GIT_AUTHOR_EMAIL",
  "CALLBACK_MAX_ATTEMPTS",
  "CALLBACK_MAX_ELAPSED",
  "CALLBACK_BASE_DELAY",
  "CALLBACK_MAX_DELAY",
  // The CLI agents' binaries and model credentials (each reaches only its own agent's process).
  "CLAUDE_CODE_BIN",
  "CLAUDE_ALLOWED_TOOLS",
  "ANTHROPIC_API_KEY",
  "ANTHROPIC_BASE_URL",
  "CODEX_BIN",
  "OPENAI_API_KEY",
  "OPENAI_BASE_URL",
];


const pidOf = (providerServerId: string | null) => {
  const match = /^pid:(\d+)$/.exec(providerServerId ?? "");
  return match ? Number(match[1]) : undefined;
};


export type LocalProviderOptions = {
  /** Where each node keeps its work folder and log: `<dataDir>/nodes/<nodeId>`. */
  dataDir: string;
  /** The project root, where `vm-agent/main.ts` and `node_modules/tsx` are. */
  rootDir?: string;
  env?: Record<string, string | undefined>;
  /** How long a node gets to exit after SIGTERM before SIGKILL. */
  stopGraceMs?: number;
};

export function localProvider(options: LocalProviderOptions): NodeProvider {
  const rootDir = options.rootDir ?? process.cwd();
  const env = options.env ?? process.env;
  return {
    name: "local",
    async create(input: CreateNodeInput): Promise<CreatedNode> {
      const nodeDir = path.resolve(options.dataDir, "nodes", input.nodeId);
      fs.mkdirSync(nodeDir, { recursive: true });
      const port = await freePort();
      const log = fs.openSync(path.join(nodeDir, "vm-agent.log"), "a");
      const childEnv: Record<string, string | undefined> = {};
      for (const key of PASSED_THROUGH) if (env[key] !== undefined) childEnv[key] = env[key];
      Object.assign(childEnv, {
        VM_AGENT_HOST: "127.0.0.1",
        VM_AGENT_PORT: String(port),
        NODE_ID: input.nodeId,
        CONTROL_PLANE_URL: input.controlPlaneUrl,
        NODE_CALLBACK_TOKEN: input.nodeCallbackToken,
        CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(input.publicJwk),
        VM_AGENT_WORK_DIR: path.join(nodeDir, "work"),
      });
      const child = spawn(process.execPath, ["--import", "tsx", path.join(rootDir, "vm-agent", "main.ts")], {
        cwd: rootDir,
        env: childEnv as NodeJS.ProcessEnv, // an allow-list; NODE_ENV is deliberately not passed
        detached: true,
        stdio: ["ignore", log, log],
      });
      fs.closeSync(log);
      const pid = await new Promise<number>((resolve, reject) => {
        child.once("spawn", () => resolve(child.pid!));
        child.once("error", reject);
      });
      child.unref();
      // Lets an operator (or a test's teardown) find every local node of a data folder.
      fs.writeFileSync(path.join(nodeDir, "vm-agent.pid"), String(pid));
      return { providerServerId: `pid:${pid}`, endpoint: `http://127.0.0.1:${port}` };
    },
    async destroy(node) {
      // The node's agents run in tmux sessions that outlive its vm-agent; a destroyed machine takes them along.
      await new Promise<void>((resolve) => execFile("tmux", ["-L", `acp-${node.id}`, "kill-server"], () => resolve()));
      const pid = pidOf(node.providerServerId);
      if (pid === undefined || !isAlive(pid)) return;
      const signalGroup = (signal: NodeJS.Signals) => {
        try {
          process.kill(-pid, signal);
        } catch {
          // Already gone.
        }
      };
      signalGroup("SIGTERM");
      const deadline = Date.now() + (options.stopGraceMs ?? 5_000);
      while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      if (isAlive(pid)) signalGroup("SIGKILL");
    },
  };
}
