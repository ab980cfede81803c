import { describe, expect, it } from "vitest";
import { errorResponse, HttpError } from "@/lib/http/respond";
import { NodeAlreadyStoppedError, NodeInUseError, NodeNotFoundError } from "@/lib/operations/destroy-node";
import { NodeEnrollmentError } from "@/lib/nodes/enrollment";
import { toHttpError } from "./domain-errors";

describe("toHttpError", () => {
  it("maps the destroy button's refusals to 404 and 409 with their messages", async () => {
    const cases: [Error, number, unknown][] = [
      [new NodeNotFoundError("n_1"), 404, { error: "node n_1 not found", field: "id" }],
      [new NodeAlreadyStoppedError("n_1", "stopped"), 409, { error: "node n_1 is already stopped" }],
      [new NodeInUseError("n_1", ["t1", "t2"]), 409, { error: expect.stringContaining("holds 2 tasks t1, t2") }],
    ];
    for (const [error, status, body] of cases) {
      const response = errorResponse(toHttpError(error));
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual(body);
    }
  });

  it("maps a refused enrollment: not a credential 401, spent 410, a gone node 404", async () => {
    const cases: [NodeEnrollmentError, number, string][] = [
      [new NodeEnrollmentError("unknown", "not n_1's"), 401, "token"],
      [new NodeEnrollmentError("used", "enrolled at"), 410, "token"],
      [new NodeEnrollmentError("expired", "expired at"), 410, "token"],
      [new NodeEnrollmentError("gone", "n_1 is stopped"), 404, "id"],
    ];
    for (const [error, status, field] of cases) {
      const response = errorResponse(toHttpError(error));
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual({ error: error.message, field });
    }
  });

  it("leaves anything else as it is", () => {
    const other = new Error("boom");
    expect(toHttpError(other)).toBe(other);
    expect(toHttpError(new HttpError(400, "bad"))).toBeInstanceOf(HttpError);
  });
});
