/** The node installer (vm-agent/install/install.sh), as cloud-init embeds it and the install route serves it. */
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export const INSTALLER_SOURCE = path.join("vm-agent", "install", "install.sh");

export type InstallerScript = { content: Buffer; sha256: string; bytes: number };

export function installerScript(rootDir: string): InstallerScript {
  const content = fs.readFileSync(path.join(rootDir, INSTALLER_SOURCE));
  return { content, sha256: createHash("sha256").update(content).digest("hex"), bytes: content.length };
}
