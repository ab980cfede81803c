/**
 * What the control plane serves a node to install itself with (no session needed: public code,
 * no secrets): the vm-agent archive, the control plane's own Node for machines that lack one, and
 * the installer both cloud-init and a hand-run install use (vm-agent/install/install.sh, whose
 * default artifact URL spells `vmAgent` once more, as sh cannot import this).
 */
import { z } from "zod";

export const vmAgentDownloadPaths = {
  manifest: "/api/vm-agent/manifest",
  vmAgent: "/api/vm-agent/artifact",
  runtime: "/api/vm-agent/runtime",
  installer: "/api/vm-agent/install.sh",
} as const;

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, "must be a sha256 in lowercase hex");

export const Download = z.object({ url: z.string().url(), sha256: Sha256, bytes: z.number().int().nonnegative() });
export type Download = z.infer<typeof Download>;

/** Node's names for CPU architectures (`process.arch`), as the installer maps `uname -m` to them. */
export const RuntimeArch = z.enum(["x64", "arm64"]);
export type RuntimeArch = z.infer<typeof RuntimeArch>;

export const VmAgentDownloads = z.object({
  vmAgent: Download,
  /** Absent when the control plane's Node cannot run on a Linux node (it runs on another system or CPU family). */
  runtime: Download.extend({ nodeVersion: z.string(), arch: RuntimeArch }).optional(),
  installer: Download,
});
export type VmAgentDownloads = z.infer<typeof VmAgentDownloads>;
