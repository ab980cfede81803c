import type { Executor } from "@/db/client";
import { users } from "@/db/schema";

/** Until accounts exist, everything belongs to the one local user. */
export const LOCAL_USER = { id: "local", email: "local@localhost", name: "Local user" } as const;

export async function ensureLocalUser(executor: Executor): Promise<string> {
  await executor.insert(users).values(LOCAL_USER).onConflictDoNothing();
  return LOCAL_USER.id;
}
