/**
 * The cloud-init user data that makes a new cloud machine a node: git, tmux, socat (the way out of each workspace's network namespace), curl and
 * ca-certificates from the distribution; the installer (vm-agent/install/install.sh) and its
 * parameters as files (root-only, 0600); then the installer runs, exchanges the node's one-time
 * enrollment token for its callback token (lib/nodes/enrollment.ts), fetches the vm-agent (and, where
 * the image has no Node 20, the control plane's Node) from the control plane, checks their sha256
 * and starts the systemd service. The callback token itself is never in the user data: a cloud
 * answers that to any process on the machine for as long as it runs, agents included. A machine
 * someone owns runs the same installer with its parameters in its environment (its registration
 * answers the callback token).
 *
 * Emitted with the `yaml` package, never by pasting values into text; YAML 1.1, as cloud-init reads it.
 */
import type { JWK } from "jose";
import { stringify } from "yaml";
import { z } from "zod";
import { EnrollmentToken } from "../contracts/api";
import { Id } from "../contracts/vm-agent";
import { RuntimeArch } from "../contracts/vm-agent-downloads";

export const INSTALLER_PATH = "/opt/agent-control-plane/install.sh";
/** The installer's default parameters file; it removes the file once the daemon's own is written. */
export const INSTALL_PARAMS_PATH = "/etc/agent-control-plane/install.env";
export const NODE_PACKAGES = ["git", "tmux", "socat", "ca-certificates", "curl"] as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in lowercase hex");
const Fetched = z.object({ url: z.string().url(), sha256: Sha256 });

/** What the installer is told of the node, whatever way its daemon comes by its callback token. */
export const NodeParameters = z.object({
  nodeId: Id,
  /** Where the daemon posts its callbacks. */
  controlPlaneUrl: z.string().url(),
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
});
export type NodeParameters = z.infer<typeof NodeParameters>;

export const CloudInitInput = NodeParameters.extend({
  /** Exchanged once by the installer for the node's callback token, which the user data never holds. */
  enrollmentToken: EnrollmentToken,
  /** The installer's text (lib/nodes/artifacts/installer.ts). */
  installer: z.string().min(1),
});
export type CloudInitInput = z.infer<typeof CloudInitInput>;

/**
 * How the installer's daemon comes by its callback token: given it (a machine's registration answers
 * it), or given a one-time token to exchange for it (a cloud node's user data).
 */
export type InstallCredential = { nodeCallbackToken: string } | { enrollmentToken: string };

/** The installer's parameters for a node, by the names vm-agent/install/install.sh reads. */
export function installParameters(input: NodeParameters & InstallCredential): Record<string, string> {
  return {
    ACP_CONTROL_PLANE_URL: input.controlPlaneUrl,
    ACP_NODE_ID: input.nodeId,
    ...("nodeCallbackToken" in input ? { ACP_NODE_CALLBACK_TOKEN: input.nodeCallbackToken } : { ACP_ENROLLMENT_TOKEN: input.enrollmentToken }),
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
