/**
 * A turn's review: what the task's branch changes against its base branch (from their merge base,
 * so commits that landed on the base since do not show), read after the turn's commit. The patch
 * is cut at a file boundary at DIFF_MAX_BYTES; every file's counts are always there. The worktree's
 * config is the agent's to write: no external diff program or textconv filter is ever run.
 */
import type { TurnDiff } from "../lib/contracts/vm-agent";
import { readGit, type GitAs } from "./git";

const SAFE = ["--no-ext-diff", "--no-textconv", "--no-color", "-M"];

/** `git diff --numstat -z`: "added\tremoved\tpath\0", or for a rename "added\tremoved\t\0old\0new\0"; "-" counts for binary files. */
export function parseNumstat(text: string): TurnDiff["files"] {
  const fields = text.split("\0");
  const files: TurnDiff["files"] = [];
  for (let i = 0; i < fields.length; i++) {
    const match = /^(-|\d+)\t(-|\d+)\t(.*)$/s.exec(fields[i]!);
    if (!match) continue;
    const count = (value: string) => (value === "-" ? null : Number(value));
    const [, added, removed, name] = match as unknown as [string, string, string, string];
    if (name) files.push({ path: name, added: count(added), removed: count(removed) });
    else {
      files.push({ oldPath: fields[i + 1]!, path: fields[i + 2]!, added: count(added), removed: count(removed) });
      i += 2;
    }
  }
  return files;
}

/** Cuts a patch larger than `maxBytes` before the `diff --git` header of the first file that does not fit. */
export function capPatch(patch: string, maxBytes: number): { patch: string; truncated: boolean } {
  if (Buffer.byteLength(patch) <= maxBytes) return { patch, truncated: false };
  const head = Buffer.from(patch).subarray(0, maxBytes).toString("utf8");
  const cut = head.lastIndexOf("\ndiff --git ");
  return { patch: cut > 0 ? head.slice(0, cut + 1) : "", truncated: true };
}

export async function turnDiff(worktree: string, options: { baseBranch?: string; baseCommit?: string; as: GitAs; maxBytes: number }): Promise<TurnDiff> {
  const head = (await readGit(worktree, ["rev-parse", "HEAD"], options.as)).stdout.trim();
  const base = options.baseBranch
    ? (await readGit(worktree, ["merge-base", "HEAD", `refs/remotes/origin/${options.baseBranch}`], options.as)).stdout.trim()
    : options.baseCommit;
  if (!base) throw new Error("the branch has no base to compare with");
  const numstat = await readGit(worktree, ["diff", ...SAFE, "--numstat", "-z", base, head, "--"], options.as, 16 * 1024 * 1024);
  // One byte more than the cap tells a patch that fits from one that was cut.
  const patch = await readGit(worktree, ["diff", ...SAFE, "--patch", base, head, "--"], options.as, options.maxBytes + 1);
  return { base, head, files: parseNumstat(numstat.stdout), ...capPatch(patch.stdout, options.maxBytes) };
}
