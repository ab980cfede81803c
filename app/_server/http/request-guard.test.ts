import { describe, expect, it } from "vitest";
import { checkLocalRequest, guardedRequest, type GuardedRequest } from "./request-guard";

const base: GuardedRequest = {
  method: "POST",
  host: "127.0.0.1:3000",
  origin: null,
  contentType: "application/json",
  fetchSite: null,
  hasBody: true,
  hasBearerToken: false,
};
const check = (overrides: Partial<GuardedRequest>) => checkLocalRequest({ ...base, ...overrides });

describe("local mode requests", () => {
  it("lets a script's JSON POST through, and the app's own pages' requests", () => {
    expect(check({})).toBeUndefined();
    expect(check({ origin: "http://127.0.0.1:3000", fetchSite: "same-origin" })).toBeUndefined();
    expect(check({ host: "localhost:3000", origin: "http://localhost:3000" })).toBeUndefined();
  });

  it("refuses a foreign Host on every request, reads included (DNS rebinding)", () => {
    expect(check({ method: "GET", host: "evil.example:3000", hasBody: false })).toMatchObject({ status: 403, field: "host" });
    expect(check({ host: null })).toMatchObject({ status: 403, field: "host" });
  });

  it("refuses a cross-site simple request (CSRF)", () => {
    expect(check({ origin: "http://evil.example", contentType: "text/plain" })).toMatchObject({ status: 403, field: "origin" });
    expect(check({ origin: "http://localhost:3001" })).toMatchObject({ status: 403, field: "origin" });
    expect(check({ origin: "null" })).toMatchObject({ status: 403, field: "origin" });
    expect(check({ fetchSite: "cross-site" })).toMatchObject({ status: 403, field: "sec-fetch-site" });
    expect(check({ fetchSite: "same-site" })).toMatchObject({ status: 403, field: "sec-fetch-site" });
  });

  it("takes a state change only as JSON; a bodiless one (a script's cancel) goes through", () => {
    expect(check({ contentType: "text/plain" })).toMatchObject({ status: 415, field: "content-type" });
    expect(check({ contentType: "application/x-www-form-urlencoded" })).toMatchObject({ status: 415 });
    expect(check({ contentType: null })).toMatchObject({ status: 415 });
    expect(check({ contentType: "application/json; charset=utf-8" })).toBeUndefined();
    expect(check({ contentType: null, hasBody: false })).toBeUndefined();
  });

  it("holds bearer-authenticated calls (vm-agent callbacks) to the Host rule only", () => {
    expect(check({ hasBearerToken: true, contentType: null })).toBeUndefined();
    expect(check({ hasBearerToken: true, host: "evil.example" })).toMatchObject({ field: "host" });
  });

  it("reads a Fetch API request", () => {
    const request = new Request("http://127.0.0.1:3000/api/tasks", {
      method: "POST",
      headers: { origin: "http://evil.example", "content-type": "text/plain", authorization: "Bearer abc" },
      body: "{}",
    });
    expect(guardedRequest(request)).toMatchObject({ method: "POST", origin: "http://evil.example", contentType: "text/plain", hasBearerToken: true });
    // What a browser sends for a bodiless DELETE: no Content-Length, no content type; not a body.
    const bodiless = new Request("http://127.0.0.1:3000/api/tokens/tok_1", { method: "DELETE", headers: { origin: "http://127.0.0.1:3000" } });
    expect(guardedRequest(bodiless).hasBody).toBe(false);
    expect(guardedRequest(new Request("http://x/", { method: "POST", headers: { "content-length": "2" }, body: "{}" })).hasBody).toBe(true);
  });
});
