import { describe, expect, it } from "vitest";
import { errorResponse, HttpError } from "./http/respond";
import { NodeAlreadyStoppedError, NodeInUseError, NodeNotFoundError } from "@/lib/operations/destroy-node";
import { NodeEnrollmentError } from "@/lib/nodes/enrollment";
import { CallbackRefusedError } from "@/lib/callbacks/errors";
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

  it("maps a refused vm-agent callback: gone 404, a foreign endpoint 422, another contract version 409, another workspace's token 403", async () => {
    const cases: [CallbackRefusedError, number, unknown][] = [
      [new CallbackRefusedError("gone", "node n_1 is not running"), 404, { error: "node n_1 is not running" }],
      [new CallbackRefusedError("endpoint", "endpoint is not where node n_1 serves: elsewhere"), 422, { error: "endpoint is not where node n_1 serves: elsewhere", field: "endpoint" }],
      [new CallbackRefusedError("contractVersion", "node n_1 speaks vm-agent contract version 3"), 409, { error: "node n_1 speaks vm-agent contract version 3", field: "contractVersion" }],
      [new CallbackRefusedError("otherWorkspace", "the token is for another workspace"), 403, { error: "the token is for another workspace" }],
    ];
    for (const [error, status, body] of cases) {
      const response = errorResponse(toHttpError(error));
      expect(response.status).toBe(status);
      expect(await response.json()).toEqual(body);
    }
  });

  it("leaves anything else as it is", () => {
    const other = new Error("boom");
    expect(toHttpError(other)).toBe(other);
    expect(toHttpError(new HttpError(400, "bad"))).toBeInstanceOf(HttpError);
  });
});
