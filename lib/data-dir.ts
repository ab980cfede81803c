/**
 * The modes of the control plane's data folder (DATA_DIR): the embedded database, the secrets key
 * file, the runner's state and logs, and the local nodes' folders. Local nodes' agents run on this
 * machine (as their own users when their daemon can create them), so none of it is for others: the
 * folder, `nodes/` and each node's folder are 0711, so others pass through them to a node's work
 * folder (whose daemon sets the modes inside) but cannot list them; everything else is owner-only.
 *
 * Whatever creates something here creates it with its mode; `prepareDataDir` runs once at start-up
 * (the app's runtime, the runner) and also tightens what an earlier version left.
 */
import fs from "node:fs";
import path from "node:path";

/** Others may pass through, not list or read. */
export const PASSABLE_DIR_MODE = 0o711;
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** `<DATA_DIR>/nodes/<nodeId>/work`: the local nodes' work folders, the one thing others reach. */
export const NODES_FOLDER = "nodes";
export const NODE_WORK_FOLDER = "work";

/**
 * Creates `dir` (and missing parents) with `mode`, and sets it when it was there already: mkdir's
 * mode is masked by the umask and ignored for an existing folder.
 */
export function ensureDir(dir: string, mode: number) {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
}

/** Owner-only: folders 0700 (what is inside is then out of others' reach), files 0600. Links are left alone (chmod would follow them). */
function makePrivate(file: string, entry: fs.Dirent) {
  if (entry.isDirectory()) fs.chmodSync(file, PRIVATE_DIR_MODE);
  else if (!entry.isSymbolicLink()) fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** Every entry of `dir` owner-only, except the folder named `passable`. */
function privateExcept(dir: string, passable: string) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name !== passable || !entry.isDirectory()) makePrivate(path.join(dir, entry.name), entry);
  }
}

/** A local node's folder: passable to its work folder; its record, pid file and logs owner-only. */
export function prepareNodeDir(nodeDir: string) {
  ensureDir(nodeDir, PASSABLE_DIR_MODE);
  privateExcept(nodeDir, NODE_WORK_FOLDER);
}

/** Creates the data folder when missing and sets the modes of it and of what is in it. Returns its absolute path. */
export function prepareDataDir(dataDir: string): string {
  const root = path.resolve(dataDir);
  ensureDir(root, PASSABLE_DIR_MODE);
  privateExcept(root, NODES_FOLDER);
  const nodesDir = path.join(root, NODES_FOLDER);
  ensureDir(nodesDir, PASSABLE_DIR_MODE);
  for (const entry of fs.readdirSync(nodesDir, { withFileTypes: true })) {
    const file = path.join(nodesDir, entry.name);
    if (entry.isDirectory()) prepareNodeDir(file);
    else makePrivate(file, entry);
  }
  return root;
}
