/**
 * The node's load as the heartbeat reports it, in percent of the whole machine: CPU busy time since
 * the previous sample (/proc/stat, or os.cpus() where there is no /proc), memory in use (MemTotal
 * against MemAvailable, which counts reclaimable cache as free, unlike os.freemem()), and the disk
 * holding the work folder (used as `df` computes it).
 */
import fs from "node:fs";
import os from "node:os";

export type CpuTimes = { busy: number; total: number };

/** The aggregate `cpu` line of /proc/stat; iowait counts as idle, guest time is inside user already. */
export function parseProcStat(text: string): CpuTimes | undefined {
  const fields = /^cpu\s+(.*)$/m.exec(text)?.[1]?.trim().split(/\s+/).map(Number);
  if (!fields || fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields;
  const total = user + nice + system + idle + iowait + irq + softirq + steal;
  return { busy: total - idle - iowait, total };
}

/** Memory in use, in percent, from /proc/meminfo; undefined when it lacks MemTotal or MemAvailable. */
export function parseMeminfo(text: string): number | undefined {
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  const total = kib("MemTotal");
  const available = kib("MemAvailable");
  if (!(total > 0) || !Number.isFinite(available)) return undefined;
  return percent(total - available, total);
}

/** A percentage rounded to one decimal and held within 0..100 (counters can be off by a tick). */
export const percent = (part: number, whole: number) => (whole > 0 ? Math.min(100, Math.max(0, Math.round((part / whole) * 1000) / 10)) : 0);

function readCpuTimes(): CpuTimes {
  try {
    const times = parseProcStat(fs.readFileSync("/proc/stat", "utf8"));
    if (times) return times;
  } catch {
    // no /proc (not Linux): the per-core times Node keeps
  }
  let busy = 0;
  let total = 0;
  for (const { times } of os.cpus()) {
    const all = times.user + times.nice + times.sys + times.idle + times.irq;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

function memoryPercent(): number {
  try {
    const fromProc = parseMeminfo(fs.readFileSync("/proc/meminfo", "utf8"));
    if (fromProc !== undefined) return fromProc;
  } catch {
    // no /proc: os.freemem() (which undercounts what is free on Linux, hence only a fallback)
  }
  return percent(os.totalmem() - os.freemem(), os.totalmem());
}

/** Used space of the file system holding `dir`, as `df` shows it: used / (used + available to users). */
export async function diskPercent(dir: string): Promise<number> {
  const stats = await fs.promises.statfs(dir);
  const used = stats.blocks - stats.bfree;
  return percent(used, used + stats.bavail);
}

export type HealthSample = { cpuPercent: number; memoryPercent: number; diskPercent: number };

/**
 * Keeps the previous CPU counters, so each sample's CPU figure is the load since the one before
 * (the first: since boot). `readCpu` is a parameter for the tests.
 */
export class HealthSampler {
  private previous: CpuTimes = { busy: 0, total: 0 };
  private disk = 0;

  constructor(
    private readonly dir: string,
    private readonly readCpu: () => CpuTimes = readCpuTimes,
  ) {}

  cpuPercent(): number {
    const now = this.readCpu();
    const busy = now.busy - this.previous.busy;
    const total = now.total - this.previous.total;
    // Counters that did not move (two samples in one tick) or went back (a reset) say nothing
    // about the interval: the average since boot stands in.
    if (total <= 0) {
      if (total < 0) this.previous = now;
      return percent(now.busy, now.total);
    }
    this.previous = now;
    return percent(busy, total);
  }

  /** Never fails: a heartbeat says the node is alive even when one figure cannot be read. */
  async sample(): Promise<HealthSample> {
    // The work folder unreadable for a moment: the last known figure, not a missed heartbeat.
    this.disk = await diskPercent(this.dir).catch(() => this.disk);
    return { cpuPercent: this.cpuPercent(), memoryPercent: memoryPercent(), diskPercent: this.disk };
  }
}
