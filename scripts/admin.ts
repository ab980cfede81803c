/**
 * `npm run admin -- create-user --email <email> --name <name> [--token-name <name>]`: the headless
 * way into a team control plane (no browser needed). Creates the person (the first one is the
 * admin) and prints a personal API token for them, once.
 *
 * With the embedded database (no DATABASE_URL) only one process may open it, so this refuses to
 * run while `npm run dev` holds the data directory.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { config } from "../lib/config";
import { database } from "../lib/db";
import { createApiToken } from "../lib/auth/api-tokens";
import { findOrCreateUser } from "../lib/users";
import { readRunState, stillOurs } from "./run-state";

const usage = "usage: npm run admin -- create-user --email <email> --name <name> [--token-name <name>]";

async function main() {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { email: { type: "string" }, name: { type: "string" }, "token-name": { type: "string" } },
  });
  if (positionals[0] !== "create-user" || !values.email || !/^[^\s@]+@[^\s@]+$/.test(values.email)) throw new Error(usage);
  const settings = config();
  const state = settings.DATABASE_URL ? undefined : readRunState(settings.DATA_DIR);
  if (state && stillOurs(state.runner)) {
    throw new Error(`the embedded database in ${path.resolve(settings.DATA_DIR)} is in use by the running system (pid ${state.runner.pid}); stop it first, or use DATABASE_URL`);
  }
  const { db, close } = await database();
  try {
    const user = await findOrCreateUser(db, { email: values.email, name: values.name ?? values.email });
    const token = await createApiToken(db, user.id, values["token-name"] ?? "created by npm run admin");
    console.error(`${user.role === "admin" ? "Admin" : "Member"} ${user.name} <${user.email}> (${user.id}). Their API token, shown only now:`);
    console.log(token.token);
  } finally {
    await close();
  }
}

main().catch((error: unknown) => {
  console.error((error as Error).message);
  process.exit(1);
});
