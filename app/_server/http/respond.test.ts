import { describe, expect, it } from "vitest";
import { journal, MigrationsPendingError } from "@/db/migrations";
import { errorResponse } from "./respond";

describe("errorResponse", () => {
  it("answers a database that lacks migrations with 503 and the refusal's message (naming the command), not a bare 500", async () => {
    const refused = new MigrationsPendingError(journal().map((entry) => entry.tag));
    const answer = errorResponse(refused);
    expect(answer.status).toBe(503);
    const { error } = (await answer.json()) as { error: string };
    expect(error).toBe(refused.message);
    expect(error).toContain("npm run db:migrate");
  });
});
