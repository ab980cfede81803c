/**
 * Where the key-encryption keys come from: SECRETS_KEYS when set (team mode requires it; rotate by
 * putting a new key in front and running `npm run admin -- rewrap-secrets`). Unset in local mode, a
 * key file is made once in the data directory, readable by its owner only.
 */
import fs from "node:fs";
import path from "node:path";
import type { Config } from "../config";
import { PASSABLE_DIR_MODE, PRIVATE_FILE_MODE } from "../data-dir";
import { newKeyRingEntry, parseKeyRing, type KeyRing } from "../envelope";

export function keyRingFile(dataDir: string) {
  return path.join(path.resolve(dataDir), "secrets.keys");
}

export function loadKeyRing(config: Pick<Config, "SECRETS_KEYS" | "DATA_DIR">): KeyRing {
  if (config.SECRETS_KEYS) return parseKeyRing(config.SECRETS_KEYS);
  const file = keyRingFile(config.DATA_DIR);
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: PASSABLE_DIR_MODE });
  try {
    // `wx`: two processes starting together never write two different keys.
    fs.writeFileSync(file, `${newKeyRingEntry()}\n`, { flag: "wx", mode: PRIVATE_FILE_MODE });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  return parseKeyRing(fs.readFileSync(file, "utf8").trim());
}
