/**
 * What a task's commits say about it (vm-agent trailers): `Agent-Task` with its page and
 * `Co-authored-by` with the person who asked. The local mode's one user is nobody's identity, so it
 * is not named; a stored name or email a trailer cannot carry leaves the co-author out rather than
 * failing the workspace.
 */
import { eq } from "drizzle-orm";
import type { Executor } from "@/db/client";
import { users } from "@/db/schema";
import type { Config } from "../config";
import { Attribution } from "../contracts/vm-agent";
import { taskUrl } from "../forge/pull-requests";
import { LOCAL_USER } from "../users";

export async function taskAttribution(db: Executor, config: Pick<Config, "APP_URL">, task: { id: string; userId: string }): Promise<Attribution> {
  const base = { taskUrl: taskUrl(config, task.id) };
  if (task.userId === LOCAL_USER.id) return base;
  const [person] = await db.select({ name: users.name, email: users.email }).from(users).where(eq(users.id, task.userId));
  const named = Attribution.safeParse({ ...base, requestedBy: person && { name: person.name.replace(/[<>\r\n]+/g, " ").trim() || person.email, email: person.email } });
  return named.success ? named.data : base;
}
