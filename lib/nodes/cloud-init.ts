/**
 * The cloud-init user data that makes a new cloud machine a node: git, tmux, curl and
 * ca-certificates from the distribution; the installer (vm-agent/install/install.sh) and its
 * parameters as files (the parameters hold the node's callback token: root-only, 0600); then the
 * installer runs, fetches the vm-agent (and, where the image has no Node 20, the control plane's
 * Node) from the control plane, checks their sha256 and starts the systemd service. A machine
 * someone owns runs the same installer with the same parameters in its environment.
 *
 * Emitted with the `yaml` package, never by pasting values into text; YAML 1.1, as cloud-init reads it.
 */
import type { JWK } from "jose";
import { stringify } from "yaml";
import { z } from "zod";
import { Id } from "../contracts/vm-agent";
import { RuntimeArch } from "../contracts/vm-agent-downloads";

export const INSTALLER_PATH = "/opt/agent-control-plane/install.sh";
/** The installer's default parameters file; it removes the file once the daemon's own is written. */
export const INSTALL_PARAMS_PATH = "/etc/agent-control-plane/install.env";
export const NODE_PACKAGES = ["git", "tmux", "ca-certificates", "curl"] as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in lowercase hex");
const Fetched = z.object({ url: z.string().url(), sha256: Sha256 });

export const CloudInitInput = z.object({
  nodeId: Id,
  /** Where the daemon posts its callbacks. */
  controlPlaneUrl: z.string().url(),
  nodeCallbackToken: z.string().min(1),
  publicJwk: z.custom<JWK>((value) => typeof value === "object" && value !== null && "kty" in value && !("d" in value), "must be a public JWK"),
  artifact: Fetched,
  /** The control plane's own Node, for images without Node 20; only a machine of this CPU can use it. */
  runtime: Fetched.extend({ arch: RuntimeArch }).optional(),
  agentPort: z.number().int().min(1).max(65_535),
  /** Where the daemon listens; the installer's default is every address (0.0.0.0). */
  agentHost: z.string().min(1).optional(),
  /** The host it reports as its endpoint's, when that is not the one it listens on (a machine someone registered: its address). */
  agentPublicHost: z.string().min(1).optional(),
  /** Where the machine reads the public address its daemon reports (a cloud's metadata service). */
  agentPublicHostUrl: z.string().url().optional(),
  /** The installer's text (lib/nodes/artifacts/installer.ts). */
  installer: z.string().min(1),
});
export type CloudInitInput = z.infer<typeof CloudInitInput>;

/** The installer's parameters for a node, by the names vm-agent/install/install.sh reads. */
export function installParameters(input: Omit<CloudInitInput, "installer">): Record<string, string> {
  return {
    ACP_CONTROL_PLANE_URL: input.controlPlaneUrl,
    ACP_NODE_ID: input.nodeId,
    ACP_NODE_CALLBACK_TOKEN: input.nodeCallbackToken,
    ACP_CONTROL_PLANE_PUBLIC_JWK: JSON.stringify(input.publicJwk),
    ACP_ARTIFACT_URL: input.artifact.url,
    ACP_ARTIFACT_SHA256: input.artifact.sha256,
    ...(input.runtime ? { ACP_RUNTIME_URL: input.runtime.url, ACP_RUNTIME_SHA256: input.runtime.sha256, ACP_RUNTIME_ARCH: input.runtime.arch } : {}),
    ACP_AGENT_PORT: String(input.agentPort),
    ...(input.agentHost ? { ACP_AGENT_HOST: input.agentHost } : {}),
    ...(input.agentPublicHost ? { ACP_AGENT_PUBLIC_HOST: input.agentPublicHost } : {}),
    ...(input.agentPublicHostUrl ? { ACP_AGENT_PUBLIC_HOST_URL: input.agentPublicHostUrl } : {}),
  };
}

/**
 * `KEY='value'` lines, which sh (the installer sources them) and systemd (EnvironmentFile) both
 * read literally; a value that could end its quotes or its line is refused rather than escaped.
 */
export function parametersFile(parameters: Record<string, string>): string {
  return Object.entries(parameters)
    .map(([name, value]) => {
      if (!/^[A-Z][A-Z0-9_]*$/.test(name)) throw new Error(`${name} is not a parameter name`);
      // eslint-disable-next-line no-control-regex -- control characters are what is refused
      if (/['\\\u0000-\u001f\u007f]/.test(value)) throw new Error(`${name} may not contain a quote, a backslash or a control character`);
      return `${name}='${value}'\n`;
    })
    .join("");
}

/** The `#cloud-config` document for one node. */
export function renderCloudInit(given: CloudInitInput): string {
  const input = CloudInitInput.parse(given);
  const { installer, ...node } = input;
  const document = {
    package_update: true,
    packages: [...NODE_PACKAGES],
    write_files: [
      { path: INSTALLER_PATH, owner: "root:root", permissions: "0755", content: installer },
      { path: INSTALL_PARAMS_PATH, owner: "root:root", permissions: "0600", content: parametersFile(installParameters(node)) },
    ],
    // The installer reads its parameters from INSTALL_PARAMS_PATH: no value of them is an argument.
    runcmd: [["sh", INSTALLER_PATH]],
  };
  return `#cloud-config\n${stringify(document, { version: "1.1", lineWidth: 0 })}`;
}
