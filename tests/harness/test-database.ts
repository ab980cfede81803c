import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { inject } from "vitest";
import { openDatabase, type Database } from "@/db/client";
import { copyPgliteTemplate } from "./pglite-template";

declare module "vitest" {
  export interface ProvidedContext {
    /** A data folder whose `pglite/` holds a migrated, closed database (unit-setup.ts): copied, not made again. */
    pgliteTemplate?: string;
  }
}

/**
 * A migrated PGlite database in its own temporary folder, removed by `close`. Making one runs
 * initdb and every migration (seconds, tens of them on a loaded machine); a copy of the run's
 * template opens in a fraction of that, through the same `openDatabase` (which finds nothing to
 * migrate). Without a template (a file run alone, the integration project) it is made afresh.
 */
export async function openTestDatabase(): Promise<Database & { dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-db-"));
  const template = inject("pgliteTemplate");
  if (template) copyPgliteTemplate(template, dir);
  const database = await openDatabase({ dataDir: dir });
  return {
    ...database,
    dir,
    close: async () => {
      await database.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
