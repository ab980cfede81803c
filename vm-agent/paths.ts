/** Where a workspace's files live: `<work dir>/workspaces/<id>/`, never outside it. */
import path from "node:path";
import { nodeWorkDirLayout } from "../lib/contracts/node-layout";
import { RequestError } from "./errors";

export class WorkspacePaths {
  readonly root: string;

  constructor(workDir: string) {
    this.root = nodeWorkDirLayout(workDir).workspaces;
  }

  /** The workspace's folder; an id that would leave the work folder is refused (400). */
  dir(workspaceId: string) {
    const dir = path.resolve(this.root, workspaceId);
    if (path.dirname(dir) !== this.root) throw new RequestError(400, "workspace id leaves the work folder", "workspaceId");
    return dir;
  }

  worktree = (workspaceId: string) => path.join(this.dir(workspaceId), "repo");
  logFile = (workspaceId: string, sessionId: string) => path.join(this.dir(workspaceId), `agent-${sessionId}.log`);
  /** The agent's environment until its launcher has read it (beside the worktree, never in it). */
  envFile = (workspaceId: string, sessionId: string) => path.join(this.dir(workspaceId), `agent-${sessionId}.env`);
  /** A turn's diff, read once after its commit and sent with its completion (and its re-reads). */
  diffFile = (workspaceId: string, sessionId: string, turn: number) => path.join(this.dir(workspaceId), `diff-${sessionId}-t${turn}.json`);
  /** The daemon's own bare repository its pushes leave from (git.ts, PushSource). */
  pushRepo = (workspaceId: string) => path.join(this.dir(workspaceId), "push.git");
  /** The agent's HOME (a CLI keeps its conversations there). */
  home = (workspaceId: string) => path.join(this.dir(workspaceId), "home");
}
