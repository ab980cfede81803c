/**
 * What a cloud node boots with: its cloud-init, naming the vm-agent download (and the control
 * plane's Node, for an image without one) by address and sha256, with the installer inline. The
 * downloads are built on first use and cached (lib/nodes/artifacts/).
 */
import type { RenderUserData } from "./provider";
import { renderCloudInit } from "./cloud-init";
import { vmAgentDownloads, type DownloadSettings } from "./artifacts/downloads";
import { installerScript } from "./artifacts/installer";

export function cloudInitRenderer(settings: DownloadSettings): RenderUserData {
  return async (input) => {
    const downloads = await vmAgentDownloads(settings);
    return renderCloudInit({
      nodeId: input.nodeId,
      controlPlaneUrl: input.controlPlaneUrl,
      enrollmentToken: input.enrollmentToken,
      publicJwk: input.publicJwk,
      artifact: { url: downloads.vmAgent.url, sha256: downloads.vmAgent.sha256 },
      ...(downloads.runtime ? { runtime: { url: downloads.runtime.url, sha256: downloads.runtime.sha256, arch: downloads.runtime.arch } } : {}),
      agentPort: input.agentPort,
      ...(input.agentPublicHostUrl ? { agentPublicHostUrl: input.agentPublicHostUrl } : {}),
      installer: installerScript(settings.rootDir).content.toString("utf8"),
    });
  };
}
