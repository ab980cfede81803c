import { RepositoryBranchesQuery } from "@/lib/contracts/api";
import { repositoryBranches } from "@/lib/tasks/base-branch";
import { checkRepository } from "@/lib/tasks/repository-policy";
import { userRoute } from "@/app/_server/routes";
import { parseQuery } from "@/app/_server/query";
import { json } from "@/app/_server/http/respond";

export const dynamic = "force-dynamic";

/** The repository's branches for the submit form's base-branch field, under the same policy as a submission. */
export const GET = userRoute(async ({ rt, request, userId }) => {
  const { repository } = parseQuery(request, RepositoryBranchesQuery);
  checkRepository(rt.config, repository);
  const found = await repositoryBranches({ db: rt.db, secrets: rt.secrets, config: rt.config }, userId, repository);
  return json(found ? { listed: true, ...found } : { listed: false, branches: [], defaultBranch: null, truncated: false });
});
