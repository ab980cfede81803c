import { describe, expect, it } from "vitest";
import { forgeRepositoryOf } from "./target";

describe("a task's repository on the forge", () => {
  it.each([
    ["https://github.com/acme/widgets", "https://github.com", { owner: "acme", name: "widgets" }],
    ["https://github.com/acme/widgets.git", "https://github.com", { owner: "acme", name: "widgets" }],
    ["git@github.com:acme/widgets.git", "https://github.com", { owner: "acme", name: "widgets" }],
    ["ssh://git@github.com/acme/widgets.git", "https://github.com", { owner: "acme", name: "widgets" }],
    ["https://ghe.example.test/team/app.git", "https://ghe.example.test", { owner: "team", name: "app" }],
    ["https://127.0.0.1:8443/org/repo.git", "https://127.0.0.1:8443", { owner: "org", name: "repo" }],
    ["https://proxy.example.test/github/org/repo", "https://proxy.example.test/github", { owner: "org", name: "repo" }],
  ])("%s on %s is %o", (repository, web, expected) => {
    expect(forgeRepositoryOf(repository, web)).toEqual({ forge: "github", ...expected });
  });

  it.each([
    ["/srv/repos/widgets", "https://github.com"],
    ["file:///srv/repos/widgets", "https://github.com"],
    ["https://gitlab.com/acme/widgets", "https://github.com"],
    ["http://github.com/acme/widgets", "https://github.com"],
    ["https://github.com/acme", "https://github.com"],
    ["https://github.com/acme/widgets/tree/main", "https://github.com"],
    ["https://user:pw@github.com/acme/widgets", "https://github.com"],
    ["https://127.0.0.1:9999/org/repo.git", "https://127.0.0.1:8443"],
    ["https://github.com/acme/..", "https://github.com"],
  ])("%s has no forge on %s", (repository, web) => {
    expect(forgeRepositoryOf(repository, web)).toBeUndefined();
  });
});
