import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { diskPercent, HealthSampler, parseMeminfo, parseProcStat, type CpuTimes } from "./health";

describe("reading the node's load", () => {
  it("reads busy and total CPU time from /proc/stat, iowait counted as idle", () => {
    const stat = "cpu  100 5 50 800 40 3 2 0 7 0\ncpu0 50 2 25 400 20 1 1 0 3 0\nintr 123\n";
    expect(parseProcStat(stat)).toEqual({ busy: 160, total: 1000 });
    expect(parseProcStat("intr 1\n")).toBeUndefined();
  });

  it("reads memory in use from MemTotal and MemAvailable (cache counts as free)", () => {
    const meminfo = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    4000000 kB\nCached: 3000000 kB\n";
    expect(parseMeminfo(meminfo)).toBe(75);
    expect(parseMeminfo("MemTotal: 100 kB\n")).toBeUndefined();
  });

  it("reports CPU load between two samples, not since boot", async () => {
    const readings: CpuTimes[] = [
      { busy: 900, total: 1000 },
      { busy: 950, total: 1200 },
      { busy: 1150, total: 1400 },
      { busy: 1150, total: 1400 },
    ];
    const sampler = new HealthSampler(os.tmpdir(), () => readings.shift()!);
    // The first sample has nothing before it: the average since boot.
    expect(sampler.cpuPercent()).toBe(90);
    expect(sampler.cpuPercent()).toBe(25);
    expect(sampler.cpuPercent()).toBe(100);
    // Counters that did not move say nothing about the interval: the average since boot stands in.
    expect(sampler.cpuPercent()).toBeCloseTo(82.1, 1);
  });

  it("samples this machine with figures between 0 and 100, the disk as df sees it", async () => {
    const sampler = new HealthSampler(os.tmpdir());
    await sampler.sample();
    const sample = await sampler.sample();
    for (const value of Object.values(sample)) {
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThanOrEqual(100);
    }
    // df rounds its percentage up to a whole number.
    const df = Number(/(\d+)%/.exec(execFileSync("df", ["-P", os.tmpdir()], { encoding: "utf8" }).split("\n")[1]!)![1]);
    expect(Math.abs((await diskPercent(os.tmpdir())) - df)).toBeLessThanOrEqual(1);
    expect(sample.diskPercent).toBeGreaterThan(0);
  });

  it("reports the last known disk figure when the folder cannot be read, rather than failing", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "vm-agent-health-"));
    const sampler = new HealthSampler(dir);
    const before = (await sampler.sample()).diskPercent;
    expect(before).toBeGreaterThan(0);
    fs.rmSync(dir, { recursive: true });
    await expect(diskPercent(dir)).rejects.toThrow(/ENOENT/);
    expect((await sampler.sample()).diskPercent).toBe(before);
  });
});
