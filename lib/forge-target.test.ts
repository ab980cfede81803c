import { describe, expect, it } from "vitest";
import { ForgeHost, ForgeHosts } from "./contracts/vm-agent";
import { forgeHosts, forgeRepositoryOf } from "./forge-target";

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

describe("forgeHosts", () => {
  it("names GITHUB_URL's host (and port), in the form the node contract takes", () => {
    expect(forgeHosts("https://github.com")).toEqual(["github.com"]);
    expect(forgeHosts("https://GHE.example.test:8443/prefix/")).toEqual(["ghe.example.test:8443"]);
    expect(forgeHosts("https://127.0.0.1:40397")).toEqual(["127.0.0.1:40397"]);
    for (const url of ["https://github.com", "https://ghe.example.test:8443/prefix/", "https://[::1]:8443"]) expect(ForgeHosts.parse(forgeHosts(url))).toEqual(forgeHosts(url));
    for (const bad of ["evil.example/x", "a b", "", "host:port", "-lead.example"]) expect(ForgeHost.safeParse(bad).success, bad).toBe(false);
  });
});
