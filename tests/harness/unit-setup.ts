/**
 * Once per unit run: one migrated PGlite database, closed, that every test's database starts as a
 * copy of (test-database.ts), instead of each file running initdb and the migrations again.
 */
import type { TestProject } from "vitest/node";
import { makePgliteTemplate } from "./pglite-template";

export default async function setup(project: TestProject) {
  const template = await makePgliteTemplate("acp-db-template-");
  project.provide("pgliteTemplate", template.dir);
  return template.remove;
}
