/** Waiting on what a child process (a runner) writes to its terminal, in tests. */
import type { ChildProcess } from "node:child_process";

export /** Resolves once `condition` holds, checking whenever `child` writes output, or fails when it exits or the time is up. */
function untilOutput(child: ChildProcess & { output: string }, condition: (output: string) => boolean, timeoutMs: number, what: string) {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!condition(child.output)) return;
      cleanup();
      resolve();
    };
    const exited = () => {
      cleanup();
      if (condition(child.output)) resolve();
      else reject(new Error(`the process exited before ${what}; its output:\n${child.output.slice(-4_000)}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out waiting for ${what}; output:\n${child.output.slice(-4_000)}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      for (const stream of [child.stdout, child.stderr]) stream?.off("data", check);
      child.off("exit", exited);
    };
    for (const stream of [child.stdout, child.stderr]) stream?.on("data", check);
    child.once("exit", exited);
    if (child.exitCode !== null || child.signalCode !== null) return exited();
    check();
  });
}
