/**
 * The self-hosted engine's keys: the signing key (the engine signs its calls to the app with it and
 * the app signs its answers and API calls) and the event key (the app sends events with it). Taken
 * from INNGEST_SIGNING_KEY / INNGEST_EVENT_KEY when set; otherwise made once and kept owner-only in
 * `<dataDir>/engine/keys.json`, so every start of the same folder, and every app instance started
 * with it, uses the same pair.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { ensureDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../lib/data-dir";

export type EngineKeys = { signingKey: string; eventKey: string };

export const engineDir = (dataDir: string) => path.join(dataDir, "engine");

export function engineKeys(dataDir: string, env: { INNGEST_SIGNING_KEY?: string; INNGEST_EVENT_KEY?: string }): EngineKeys {
  const file = path.join(engineDir(dataDir), "keys.json");
  let kept: Partial<EngineKeys> = {};
  try {
    kept = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<EngineKeys>;
  } catch {
    // None kept yet.
  }
  // The engine takes the signing key as hex; the SDK accepts it without Inngest Cloud's `signkey-…-` prefix.
  const keys: EngineKeys = {
    signingKey: env.INNGEST_SIGNING_KEY || kept.signingKey || randomBytes(32).toString("hex"),
    eventKey: env.INNGEST_EVENT_KEY || kept.eventKey || randomBytes(32).toString("hex"),
  };
  const made = (!env.INNGEST_SIGNING_KEY && !kept.signingKey) || (!env.INNGEST_EVENT_KEY && !kept.eventKey);
  if (made) {
    // Only what was made here is kept: keys from the environment stay the operator's to keep.
    ensureDir(engineDir(dataDir), PRIVATE_DIR_MODE);
    const keep = { signingKey: env.INNGEST_SIGNING_KEY ? kept.signingKey : keys.signingKey, eventKey: env.INNGEST_EVENT_KEY ? kept.eventKey : keys.eventKey };
    fs.writeFileSync(file, `${JSON.stringify(keep)}\n`, { mode: PRIVATE_FILE_MODE });
    fs.chmodSync(file, PRIVATE_FILE_MODE);
  }
  return keys;
}
