import { describe, expect, it } from "vitest";
import { unwrapShell } from "./text";

describe("unwrapShell", () => {
  it.each([
    ["/bin/bash -lc 'ls -la'", "ls -la"],
    ["bash -lc 'echo '\\''hi'\\'''", "echo 'hi'"],
    ['/bin/bash -lc "printf \'MIT\\\\n\' > LICENSE"', "printf 'MIT\\n' > LICENSE"],
    ["/bin/zsh -lc 'git status'", "git status"],
    // Not one quoted argument: left as it is.
    ["bash -lc 'a' && echo 'b'", "bash -lc 'a' && echo 'b'"],
    ["python -c 'print(1)'", "python -c 'print(1)'"],
  ])("%s → %s", (command, shown) => expect(unwrapShell(command)).toBe(shown));
});
