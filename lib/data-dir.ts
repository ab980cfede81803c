/**
 * The modes of the control plane's data folder (DATA_DIR): the embedded database, the secrets key
 * file, local mode's token, the runner's state and logs, and the local nodes' folders. Local nodes'
 * agents run on this machine (as their own users when their daemon can create them), so none of it
 * is for others: the folder, `nodes/` and each node's folder are 0711, so others pass through them
 * to a node's work folder (whose daemon sets the modes inside) but cannot list them; everything else
 * is owner-only.
 *
 * The folder is the control plane's only when it made it, or found it empty, or finds its mark
 * (DATA_DIR_MARKER) in it: any other folder DATA_DIR names (a home folder, a project, the checkout)
 * is refused at start, untouched. Modes are set only on the folder and on what the control plane
 * makes in it (OWN_ENTRIES), never on anything else that is there.
 *
 * Whatever creates something here creates it with its mode; `prepareDataDir` runs once at start-up
 * (the app's runtime, the runner, the admin and migrate commands) and also tightens what an earlier
 * version left.
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

/** Written into the data folder when the control plane takes it: a folder with it is the control plane's. */
export const DATA_DIR_MARKER = ".acp-data-dir";
const MARKER_TEXT =
  "This folder is the data folder (DATA_DIR) of an agent control plane: its embedded database, key\n" +
  "file, local nodes and logs. The control plane sets the modes of what it made here.\n";

/**
 * What the control plane makes at the top of the data folder, and the mode each has. A folder that
 * holds nothing else is one it made before it marked its folders, and is adopted.
 */
const OWN_ENTRIES: Record<string, { folder: boolean; mode: number }> = {
  [DATA_DIR_MARKER]: { folder: false, mode: PRIVATE_FILE_MODE },
  /** The embedded database (db/client.ts). */
  pglite: { folder: true, mode: PRIVATE_DIR_MODE },
  /** The local nodes' folders (lib/nodes/providers/local.ts); their modes are set below. */
  [NODES_FOLDER]: { folder: true, mode: PASSABLE_DIR_MODE },
  /** The key file of local mode (lib/secrets/key-ring.ts). */
  "secrets.keys": { folder: false, mode: PRIVATE_FILE_MODE },
  /** Local mode's token for scripts and sign-in links (lib/auth/local.ts). */
  "local-token": { folder: false, mode: PRIVATE_FILE_MODE },
  /** The runner's state (scripts/run-state.ts). */
  run: { folder: true, mode: PRIVATE_DIR_MODE },
  /** The self-hosted engine's keys and state (scripts/engine-keys.ts). */
  engine: { folder: true, mode: PRIVATE_DIR_MODE },
  /** The runner's logs, when it is given a log folder here (the tests, the benchmarks). */
  logs: { folder: true, mode: PRIVATE_DIR_MODE },
};

/** One of OWN_ENTRIES, of its kind (a link is never one: chmod would follow it). */
function isOwnEntry(entry: fs.Dirent) {
  const own = Object.hasOwn(OWN_ENTRIES, entry.name) ? OWN_ENTRIES[entry.name] : undefined;
  return own !== undefined && (own.folder ? entry.isDirectory() : entry.isFile());
}

export class DataDirError extends Error {}

/**
 * Takes `root` for the control plane: made when missing; adopted (and marked) when empty or when it
 * holds only what the control plane makes; refused, untouched, otherwise.
 */
function claim(root: string) {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(root, { withFileTypes: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") throw new DataDirError(`DATA_DIR: ${root} is not a folder; set DATA_DIR to a folder of its own (default .data)`);
    if (code !== "ENOENT") throw error;
    entries = [];
  }
  if (entries.some((entry) => entry.name === DATA_DIR_MARKER)) return;
  const foreign = entries.filter((entry) => !isOwnEntry(entry)).map((entry) => entry.name);
  if (foreign.length) {
    const shown = foreign.sort().slice(0, 5).join(", ") + (foreign.length > 5 ? `, … (${foreign.length} in all)` : "");
    throw new DataDirError(
      `DATA_DIR: ${root} holds files not made by the control plane (${shown}), so it is not used and nothing in it is changed. ` +
        `The data folder must be new, empty, or one the control plane made (it has a ${DATA_DIR_MARKER} file); set DATA_DIR to such a folder (default .data).`,
    );
  }
  ensureDir(root, PASSABLE_DIR_MODE);
  fs.writeFileSync(path.join(root, DATA_DIR_MARKER), MARKER_TEXT, { mode: PRIVATE_FILE_MODE });
}

/** Owner-only: folders 0700 (what is inside is then out of others' reach), files 0600. Links are left alone (chmod would follow them). */
function makePrivate(file: string, entry: fs.Dirent) {
  if (entry.isDirectory()) fs.chmodSync(file, PRIVATE_DIR_MODE);
  else if (!entry.isSymbolicLink()) fs.chmodSync(file, PRIVATE_FILE_MODE);
}

/** Every entry of `dir` owner-only, except the folder named `passable`. Only for folders all of whose entries the control plane made. */
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

/**
 * Takes the data folder (see `claim`: a folder that is not the control plane's is refused with a
 * DataDirError, untouched) and sets the modes of it and of what the control plane made in it.
 * Returns its absolute path.
 */
export function prepareDataDir(dataDir: string): string {
  const root = path.resolve(dataDir);
  claim(root);
  ensureDir(root, PASSABLE_DIR_MODE);
  for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
    if (isOwnEntry(entry)) fs.chmodSync(path.join(root, entry.name), OWN_ENTRIES[entry.name]!.mode);
  }
  const nodesDir = path.join(root, NODES_FOLDER);
  ensureDir(nodesDir, PASSABLE_DIR_MODE);
  for (const entry of fs.readdirSync(nodesDir, { withFileTypes: true })) {
    const file = path.join(nodesDir, entry.name);
    if (entry.isDirectory()) prepareNodeDir(file);
    else makePrivate(file, entry);
  }
  return root;
}
