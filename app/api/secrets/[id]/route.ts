/** One of the caller's secrets, by name (`ANTHROPIC_API_KEY`, …): set or replace it, or delete it. */
import { PutSecretRequest, SecretName } from "@/lib/contracts/api";
import { deleteSecret, putSecret } from "@/lib/secrets/store";
import { userRouteWithId } from "@/app/_server/routes";
import { HttpError, json, parseBody } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

function secretName(id: string): SecretName {
  const parsed = SecretName.safeParse(id);
  if (!parsed.success) throw new HttpError(404, `no secret is called ${id}; the names are ${SecretName.options.join(", ")}`, "name");
  return parsed.data;
}

export const PUT = userRouteWithId(async ({ rt, userId, id, request }) => {
  const name = secretName(id);
  const { value } = await parseBody(request, PutSecretRequest);
  return json(await putSecret(rt.db, rt.secrets, userId, name, value));
});

export const DELETE = userRouteWithId(async ({ rt, userId, id }) => {
  const name = secretName(id);
  await deleteSecret(rt.db, userId, name);
  return json({ name, deleted: true });
});
