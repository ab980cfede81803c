/**
 * People. Local mode has exactly one, `local`, who owns everything. In team mode people join by
 * signing in with GitHub when they are let in (lib/auth/admission.ts), or by the headless `npm run
 * admin -- create-user`, which also makes admins: signing in makes nobody one.
 */
import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { users } from "@/db/schema";

export const LOCAL_USER = { id: "local", email: "local@localhost", name: "Local user" } as const;

export type Role = "admin" | "member";
export type UserView = { id: string; email: string; name: string; role: Role };

export async function ensureLocalUser(executor: Executor): Promise<string> {
  await executor.insert(users).values({ ...LOCAL_USER, role: "admin" }).onConflictDoNothing();
  return LOCAL_USER.id;
}

/**
 * Makes the earliest person to join the admin, if there is none. Safe to run after every join and
 * concurrently: every caller picks the same person.
 */
export async function promoteFirstAdmin(executor: Executor) {
  await executor.execute(sql`
    update users set role = 'admin', updated_at = now()
    where id = (select id from users where id <> ${LOCAL_USER.id} order by created_at, id limit 1)
      and not exists (select 1 from users where role = 'admin' and id <> ${LOCAL_USER.id})`);
}

/**
 * Creates a person by email (or finds them), for the headless set-up path of the operator at the
 * machine: `admin` makes them an admin; so does being the first it creates while there is none.
 */
export async function findOrCreateUser(executor: Executor, input: { email: string; name: string; admin?: boolean }): Promise<UserView> {
  const email = input.email.trim().toLowerCase();
  await executor.insert(users).values({ id: `u_${randomBytes(9).toString("base64url")}`, email, name: input.name.trim() || email }).onConflictDoNothing();
  if (input.admin) await executor.update(users).set({ role: "admin", updatedAt: new Date() }).where(eq(users.email, email));
  await promoteFirstAdmin(executor);
  return (await getUser(executor, { email }))!;
}

export async function getUser(executor: Executor, by: { id: string } | { email: string }): Promise<UserView | undefined> {
  const [row] = await executor
    .select({ id: users.id, email: users.email, name: users.name, role: users.role })
    .from(users)
    .where("id" in by ? eq(users.id, by.id) : eq(users.email, by.email));
  return row && { ...row, role: row.role === "admin" ? "admin" : "member" };
}
