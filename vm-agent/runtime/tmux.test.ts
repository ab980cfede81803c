/** The tmux wrapper against a real tmux server on a private socket. */
import { afterAll, describe, expect, it } from "vitest";
import { inheritedEnvironment } from "../config";
import { Tmux } from "./tmux";

const tmux = new Tmux(`acp-tmux-test-${process.pid}`, inheritedEnvironment(process.env));
afterAll(() => tmux.killServer());

describe("Tmux.newSession", () => {
  it("starts a session even when the server is on its way out because the last session just ended", async () => {
    // A session whose command exits at once makes the server exit; the next new-session meets it
    // exiting some of the time ("server exited unexpectedly"). Many rounds make that race certain.
    for (let round = 0; round < 60; round++) {
      await tmux.newSession({ name: `gone-${round}`, cwd: "/", command: ["true"] });
      await tmux.newSession({ name: `kept-${round}`, cwd: "/", command: ["sleep", "30"] });
      expect(await tmux.hasSession(`kept-${round}`)).toBe(true);
      await tmux.killSession(`kept-${round}`);
    }
  }, 60_000);
});
