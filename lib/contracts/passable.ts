/**
 * Whether other users of this machine can reach a path: every folder on the way must let them pass
 * (its "x for others" bit). The vm-agent checks it before it runs workspaces as their own users
 * (vm-agent/users.ts), the local provider before it installs the node runtime for them
 * (lib/nodes/artifacts/local-install.ts).
 */
import fs from "node:fs";
import path from "node:path";

/** The outermost folder on the way to `target` (not `target` itself) that other users cannot pass through, if any. */
export function closedOnTheWay(target: string): string | undefined {
  let dir = path.dirname(path.resolve(target));
  let closed: string | undefined;
  for (;;) {
    if ((fs.statSync(dir).mode & 0o001) === 0) closed = dir;
    const parent = path.dirname(dir);
    if (parent === dir) return closed;
    dir = parent;
  }
}

/** Why other users cannot reach `target` (`what` names it), or undefined when they can. */
export function unreachableByOthers(what: string, target: string): string | undefined {
  const closed = closedOnTheWay(target);
  // The ignore comment: a path of this machine, not a file of the app for the build to trace (see lib/nodes/artifacts/local-install.ts).
  return closed && `${what} is behind ${closed}, which other users cannot enter (mode ${(fs.statSync(/*turbopackIgnore: true*/ closed).mode & 0o777).toString(8)})`;
}
