import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { openDatabase, type Database } from "@/db/client";

/** A migrated PGlite database in its own temporary folder, removed by `close`. */
export async function openTestDatabase(): Promise<Database & { dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "acp-db-"));
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
