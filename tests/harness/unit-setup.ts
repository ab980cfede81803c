/**
 * Once per unit run: one migrated PGlite database, closed, that every test's database starts as a
 * copy of (test-database.ts), instead of each file running initdb and the migrations again.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { TestProject } from "vitest/node";
import { openDatabase } from "@/db/client";

export default async function setup(project: TestProject) {
  const template = fs.mkdtempSync(path.join(os.tmpdir(), "acp-db-template-"));
  const database = await openDatabase({ dataDir: template });
  await database.close();
  project.provide("pgliteTemplate", template);
  return () => fs.rmSync(template, { recursive: true, force: true });
}
