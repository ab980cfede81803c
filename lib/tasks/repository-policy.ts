/**
 * Which repositories a task may name. The syntax is the contract's (`Repository`); this is the
 * policy: a team control plane clones only from the network, and a local one never from its own
 * folders, where an agent's branch would be pushed into the control plane itself.
 */
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config";

export class RepositoryRefusedError extends Error {
  override readonly name = "RepositoryRefusedError";
  constructor(reason: string) {
    super(`repository ${reason}`);
  }
}

/** The local path a repository names (an absolute path or a file:// URL), if it names one. */
export function localPath(repository: string): string | undefined {
  if (repository.startsWith("/")) return repository;
  if (repository.startsWith("file://")) {
    try {
      return decodeURIComponent(new URL(repository).pathname);
    } catch {
      return repository.slice("file://".length);
    }
  }
  return undefined;
}

/** The path with every symlink along it resolved, as far as it exists (a link must not hide where it points). */
function realPath(target: string): string {
  const resolved = path.resolve(target);
  let existing = resolved;
  const rest: string[] = [];
  while (!fs.existsSync(existing) && path.dirname(existing) !== existing) {
    rest.unshift(path.basename(existing));
    existing = path.dirname(existing);
  }
  return path.join(fs.realpathSync(existing), ...rest);
}

const within = (child: string, parent: string) => child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);

/** Throws RepositoryRefusedError when the task may not use this repository. */
export function checkRepository(config: Pick<Config, "AUTH_MODE" | "DATA_DIR">, repository: string, controlPlaneRoot = process.cwd()) {
  const local = localPath(repository);
  if (config.AUTH_MODE === "team") {
    if (!repository.startsWith("https://")) {
      throw new RepositoryRefusedError(
        local !== undefined
          ? "must be an https:// URL: a team control plane does not clone from its own machine"
          : "must be an https:// URL: a team control plane clones only over https, with the task owner's GitHub token",
      );
    }
    return;
  }
  if (local === undefined) return;
  const target = realPath(local);
  const own = [
    ["the control plane's own folder", controlPlaneRoot],
    ["the control plane's data directory", path.resolve(controlPlaneRoot, config.DATA_DIR)],
  ] as const;
  for (const [what, folder] of own) {
    if (within(target, realPath(folder))) throw new RepositoryRefusedError(`may not be inside ${what} (${folder}): an agent's branch would be pushed into the control plane itself`);
  }
}
