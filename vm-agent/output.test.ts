import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { makeRepo } from "../tests/harness/git";
import { AgentOutputCallback } from "../lib/contracts/vm-agent";
import { silentLogger } from "./log";
import { OutputShipper } from "./output";
import { lineText, MAX_BATCH_BYTES, MAX_LINE_BYTES } from "./output-lines";
import { startReceiver, startTestAgent, workspaceRequest } from "./test-support";
import { sharedTempDir } from "../tests/harness/shared-dir";

const cleanups: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

type Sent = { messageId: string; path: string; token: string; body: AgentOutputCallback };

/** A real log file and a real shipper whose outbox records what it is handed. */
function setup(initial: Buffer | string = "") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-output-"));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  const logFile = path.join(dir, "agent.log");
  fs.writeFileSync(logFile, initial);
  const sent: Sent[] = [];
  const shipped: { start: number; end: number }[] = [];
  const outbox = {
    enqueue(messageId: string, callbackPath: string, token: string, body: Record<string, unknown>) {
      sent.push({ messageId, path: callbackPath, token, body: AgentOutputCallback.parse(body) });
    },
  };
  const target = { workspaceId: "w_1", sessionId: "s_1", turn: 1, callbackToken: "cb", logFile };
  const shipper = (offset = 0, resendFrom?: number) => {
    const made = new OutputShipper({ target, outbox, flushIntervalMs: 60_000, offset, resendFrom, onShipped: (start, end) => shipped.push({ start, end }), log: silentLogger });
    cleanups.push(() => made.stop(false));
    return made;
  };
  return { logFile, sent, shipped, shipper, append: (data: Buffer | string) => fs.appendFileSync(logFile, data) };
}

/** Flushes as the timer would until nothing more comes (a flush hands over a few batches at most). */
function drain(shipper: OutputShipper, sent: Sent[]) {
  for (let before = -1; before !== sent.length; ) {
    before = sent.length;
    shipper.flush();
  }
}

/**
 * What every shipment must be: valid against the contract, within the batch bounds, free of NUL,
 * and contiguous: each batch starts at the byte where the line after the previous batch starts.
 */
function expectContiguous(sent: Sent[], log: Buffer) {
  const starts = [0];
  for (let at = log.indexOf(0x0a); at >= 0; at = log.indexOf(0x0a, at + 1)) if (at + 1 < log.length) starts.push(at + 1);
  let line = 0;
  for (const { body, messageId } of sent) {
    expect(AgentOutputCallback.safeParse(body).success).toBe(true);
    expect(messageId).toBe(`s_1-out-${body.offset}`);
    expect(body.offset).toBe(starts[line]);
    expect(body.lines.length).toBeGreaterThan(0);
    expect(body.lines.length).toBeLessThanOrEqual(5_000);
    expect(body.lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
    expect(body.lines.some((l) => l.includes("\u0000"))).toBe(false);
    line += body.lines.length;
  }
  expect(line).toBe(starts.length);
}

const linesOf = (sent: Sent[]) => sent.flatMap((s) => s.body.lines);

describe("agent output in bytes", () => {
  it("ships a 1 MiB line cut with a marker once its newline is there, while the agent still runs", () => {
    const { sent, shipper, append, logFile } = setup("before\n");
    const ship = shipper();
    append("x".repeat(1024 * 1024));
    drain(ship, sent);
    // The long line is not finished: only the line before it has gone.
    expect(linesOf(sent)).toEqual(["before"]);
    append("\nafter\n");
    drain(ship, sent);
    const [, cut, after] = linesOf(sent);
    expect(after).toBe("after");
    expect(cut!.endsWith("x … [line cut: 1048576 bytes]")).toBe(true);
    expect(cut!.length).toBeLessThanOrEqual(100_000);
    expect(Buffer.byteLength(cut!)).toBeLessThanOrEqual(MAX_LINE_BYTES);
    expect(cut!.startsWith("x".repeat(90_000))).toBe(true);
    expectContiguous(sent, fs.readFileSync(logFile));
  });

  it("makes NUL visible and decodes invalid UTF-8 with replacement characters, offsets by bytes", () => {
    const first = Buffer.concat([Buffer.from("nul:\u0000:end\nbad:"), Buffer.from([0xff, 0xfe]), Buffer.from(":end\n")]);
    const { sent, shipper, append, logFile } = setup(first);
    const ship = shipper();
    ship.flush();
    append("next\n");
    ship.flush();
    expect(linesOf(sent)).toEqual(["nul:\u2400:end", "bad:\ufffd\ufffd:end", "next"]);
    // The second batch starts exactly after the bytes of the first, not after its decoded text.
    expect(sent[1]!.body.offset).toBe(first.length);
    expectContiguous(sent, fs.readFileSync(logFile));
  });

  it("keeps a multi-byte character whole when it is written in two pieces or crosses a read or batch edge", () => {
    const euro = Buffer.from("€");
    const { sent, shipper, append, logFile } = setup(Buffer.concat([Buffer.from("price: "), euro.subarray(0, 2)]));
    const ship = shipper();
    ship.flush();
    expect(sent).toHaveLength(0);
    append(Buffer.concat([euro.subarray(2), Buffer.from("42\n")]));
    ship.flush();
    expect(linesOf(sent)).toEqual(["price: €42"]);
    // The next read starts after that line and holds 256 KiB: 2,621 lines of 100 bytes, then a
    // line whose "€" covers bytes 262,142-262,144 of the read, across its edge.
    const short = "a".repeat(99);
    const straddling = `${"a".repeat(42)}€ straddles`;
    // Then lines of "é" (two bytes each) over several batch edges (256 KiB of text each).
    const wide = "é".repeat(999);
    append(`${`${short}\n`.repeat(2_621)}${straddling}\n${`${wide}\n`.repeat(400)}`);
    drain(ship, sent);
    expect(linesOf(sent)).toEqual(["price: €42", ...Array<string>(2_621).fill(short), straddling, ...Array<string>(400).fill(wide)]);
    expect(sent.length).toBeGreaterThan(3);
    expectContiguous(sent, fs.readFileSync(logFile));
  });

  it("ships 20,000 short lines of one burst in order, in batches of at most 5,000 lines", () => {
    const burst = Array.from({ length: 20_000 }, (_, i) => `line ${i + 1}`);
    const { sent, shipper, logFile } = setup(`${burst.join("\n")}\n`);
    const ship = shipper();
    drain(ship, sent);
    expect(linesOf(sent)).toEqual(burst);
    expect(sent.length).toBeGreaterThanOrEqual(4);
    expectContiguous(sent, fs.readFileSync(logFile));
  });

  it("ships everything on the final flush, a last partial line and a long unfinished one too", () => {
    const { sent, shipper, append, logFile } = setup("done\npartial");
    const ship = shipper();
    ship.stop(true);
    expect(linesOf(sent)).toEqual(["done", "partial"]);
    // 300,001 bytes of which every read edge but the first falls inside a two-byte "é".
    append(`\nx${"é".repeat(150_000)}`);
    const next = shipper(fs.statSync(logFile).size - 300_001);
    next.stop(true);
    expect(linesOf(sent).at(-1)).toMatch(/^xé+ … \[line cut: 300001 bytes\]$/);
  });

  it("re-sends the last batch after a restart byte for byte, even when the log grew meanwhile", () => {
    const { sent, shipped, shipper, append } = setup(`${"z".repeat(200_000)}\nshort\n`);
    shipper().flush();
    const last = shipped.at(-1)!;
    const original = sent.find((s) => s.body.offset === last.start)!;
    append("more output\n");
    // The restarted shipper knows only what was recorded: where it stands and where the last batch began.
    shipper(last.end, last.start).start();
    const resent = sent.at(-1)!;
    expect(resent.messageId).toBe(original.messageId);
    expect(resent.body).toEqual(original.body);
  });
});

describe("a line's text", () => {
  const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;
  /** The line as the log window hands it over: its first MAX_LINE_BYTES + 3 bytes and its length. */
  const cut = (text: string) => {
    const bytes = Buffer.from(text);
    return lineText(bytes.subarray(0, MAX_LINE_BYTES + 3), bytes.length);
  };

  it.each([
    ["two-byte", "é".repeat(70_000)],
    ["three-byte, odd start", `a${"€".repeat(50_000)}`],
    ["four-byte", "😀".repeat(40_000)],
  ])("cuts a long line of %s characters on a character's edge, within both limits", (_, text) => {
    const line = cut(text);
    expect(line).toMatch(new RegExp(`^${text.slice(0, 2)}.* … \\[line cut: ${Buffer.byteLength(text)} bytes\\]$`, "s"));
    expect(line.includes("\ufffd")).toBe(false);
    expect(loneSurrogate.test(line)).toBe(false);
    expect(line.length).toBeLessThanOrEqual(100_000);
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(MAX_LINE_BYTES);
  });

  it.each([0, 1])("never keeps half a surrogate pair when it cuts at 100,000 characters (shift %i)", (shift) => {
    const line = cut(`${"a".repeat(99_960 + shift)}${"😀".repeat(100)}`);
    expect(line).toMatch(/^a+(😀)* … \[line cut: 100\d{3} bytes\]$/u);
    expect(loneSurrogate.test(line)).toBe(false);
    expect(line.length).toBeLessThanOrEqual(100_000);
  });

  it("leaves a line within the limits as it is, but for NUL", () => {
    expect(cut("x".repeat(100_000))).toBe("x".repeat(100_000));
    expect(cut("a\u0000b")).toBe("a\u2400b");
  });
});

describe("agent output through the real outbox", () => {
  it("reaches a control plane that refuses what Postgres would, every batch at the first attempt, and the completion follows", async () => {
    // The control plane as the real one answers: 422 for a body outside the contract, 500 for what
    // jsonb cannot store (U+0000), which the outbox would retry until it gives up.
    const receiver = await startReceiver((url, _attempt, body) => {
      if (!url.endsWith("/output")) return 200;
      if (!AgentOutputCallback.safeParse(body).success) return 422;
      return JSON.stringify(body).includes("\\u0000") ? 500 : 200;
    });
    const command = [
      "head -c 1048576 /dev/zero | tr '\\000' x",
      "echo",
      "printf 'nul:\\000:end\\n'",
      "printf 'bad:\\377\\376:end\\n'",
      "printf 'euro:\\342\\202\\254\\n'",
      "seq 1 20000 | sed 's/^/line /'",
    ].join("; ");
    const agent = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: command });
    cleanups.push(receiver.close, agent.close);
    await agent.request("POST", "/workspaces", workspaceRequest(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    expect((await receiver.next(/s_1\/completed$/)).body).toMatchObject({ exitCode: 0 });

    const attempts = receiver.attemptLog.filter((a) => a.path.endsWith("/s_1/output"));
    expect(attempts.map((a) => a.status).filter((status) => status !== 200)).toEqual([]);
    const batches = attempts.map((a) => ({ messageId: String(a.body.messageId), path: a.path, token: "cb", body: AgentOutputCallback.parse(a.body) }));
    expect(new Set(batches.map((b) => b.messageId)).size).toBe(batches.length);
    batches.sort((a, b) => a.body.offset - b.body.offset);
    const lines = linesOf(batches);
    expect(lines[0]).toMatch(/^x{90000,} … \[line cut: 1048576 bytes\]$/);
    expect(lines.slice(1, 4)).toEqual(["nul:\u2400:end", "bad:\ufffd\ufffd:end", "euro:€"]);
    expect(lines.slice(4)).toEqual(Array.from({ length: 20_000 }, (_, i) => `line ${i + 1}`));
    expectContiguous(batches, fs.readFileSync(path.join(agent.workDir, "workspaces", "w_1", "agent-s_1.log")));
  });
});

describe("agent output in order", () => {
  it("reaches the control plane in the order the agent wrote it, a retried batch holding back the rest, and the completion after all of it", async () => {
    // The control plane's first answer to an output batch is 503 (a deploy, a lost connection).
    const receiver = await startReceiver((url, attempt) => (url.endsWith("/output") && attempt === 1 ? 503 : 200));
    const agent = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: "seq 1 30000 | sed 's/^/line /'" });
    cleanups.push(receiver.close, agent.close);
    await agent.request("POST", "/workspaces", workspaceRequest(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    await agent.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    await receiver.next(/s_1\/completed$/);

    const session = receiver.received.filter((r) => r.path.includes("/s_1/"));
    const offsets = session.filter((r) => r.path.endsWith("/output")).map((r) => AgentOutputCallback.parse(r.body).offset);
    expect(offsets.length).toBeGreaterThan(2);
    expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    expect(session.at(-1)!.path).toMatch(/s_1\/completed$/);
    const lines = session.filter((r) => r.path.endsWith("/output")).flatMap((r) => AgentOutputCallback.parse(r.body).lines);
    expect(lines).toEqual(Array.from({ length: 30_000 }, (_, i) => `line ${i + 1}`));
  });
});

describe("agent output across a vm-agent restart", () => {
  it("re-sends the last batch byte for byte, then goes on from where it stopped", async () => {
    const receiver = await startReceiver();
    const gate = sharedTempDir("vm-agent-gate-");
    const command = `echo first; while [ ! -e "${gate}/open" ]; do sleep 0.05; done; echo second`;
    const first = await startTestAgent(receiver.url, { SCRIPT_AGENT_COMMAND: command });
    cleanups.push(receiver.close, first.close, () => fs.rmSync(gate, { recursive: true, force: true }));
    await first.request("POST", "/workspaces", workspaceRequest(makeRepo()));
    await receiver.next(/w_1\/ready$/);
    await first.request("POST", "/workspaces/w_1/agent-sessions/s_1/start", { agent: "script", prompt: "x", callbackToken: "cb" });
    const batch = await receiver.next(/s_1\/output$/);
    expect(batch.body).toMatchObject({ offset: 0, lines: ["first"] });

    await first.detach();
    const second = await startTestAgent(receiver.url, { workDir: first.workDir, NODE_ID: first.config.NODE_ID, SCRIPT_AGENT_COMMAND: command });
    cleanups.push(second.detach);
    // It cannot know whether that batch reached the outbox before the exit: it sends it again, the same.
    expect((await receiver.nth(/s_1\/output$/, 2)).body).toEqual(batch.body);
    fs.writeFileSync(path.join(gate, "open"), "");
    await receiver.next(/s_1\/completed$/);
    const outputs = receiver.received.filter((r) => r.path.endsWith("/s_1/output")).map((r) => AgentOutputCallback.parse(r.body));
    const byOffset = new Map(outputs.map((o) => [o.offset, o.lines]));
    expect([...byOffset.entries()].sort(([a], [b]) => a - b)).toEqual([
      [0, ["first"]],
      [6, ["second"]],
    ]);
  });
});
