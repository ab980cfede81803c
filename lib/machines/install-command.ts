/** The one line a person runs on their machine: fetch the installer from this control plane and run it as root with the token. */
import { vmAgentDownloadPaths } from "../contracts/vm-agent-downloads";

/** `value` as one sh word, whatever it holds. */
const shellWord = (value: string) => (/^[A-Za-z0-9_.:/@%+=,-]+$/.test(value) ? value : `'${value.replaceAll("'", `'\\''`)}'`);

export function installCommand(appUrl: string, token: string): string {
  const base = appUrl.replace(/\/+$/, "");
  return `curl -fsSL ${shellWord(`${base}${vmAgentDownloadPaths.installer}`)} | sudo ACP_CONTROL_PLANE_URL=${shellWord(base)} ACP_REGISTRATION_TOKEN=${shellWord(token)} sh`;
}
