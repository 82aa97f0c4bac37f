/**
 * CPU seconds and peak memory of the processes of a bench run, from /proc (Linux):
 * workerd, the Postgres server (postmaster plus live and exited backends)
 * and the bench's own Node process (S3 server and WebSocket proxy run in it).
 */
import { readFileSync, readdirSync } from 'node:fs';

const TICKS = 100; // USER_HZ on Linux

/** utime, stime, cutime, cstime of a process in seconds (null when gone). */
function times(pid: string): [number, number, number, number] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After "state": ppid(1) … utime(11) stime(12) cutime(13) cstime(14)
    return [Number(f[11]) / TICKS, Number(f[12]) / TICKS, Number(f[13]) / TICKS, Number(f[14]) / TICKS];
  } catch {
    return null;
  }
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

function ppid(pid: string): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? '0';
  } catch {
    return '0';
  }
}

/** Whether `pid` is `root` or one of its descendants. */
function descendsFrom(pid: string, root: number): boolean {
  for (let p = pid, i = 0; p !== '0' && p !== '1' && i < 20; p = ppid(p), i++) {
    if (p === String(root)) return true;
  }
  return false;
}

/** Peak resident set (kB) of the workerd processes under `root`, from /proc. */
export function workerdPeakKb(root: number): number {
  let peak = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    if (!cmdline(pid).includes('workerd') || !descendsFrom(pid, root)) continue;
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  return peak;
}

/** CPU seconds so far, by part. */
export interface CpuSample {
  /** The workerd processes running the Worker (those with an inspector), but for any in `named`. */
  workerd: number;
  postgres: number;
  bench: number;
  /** Processes given by pid (children included), by name. */
  named: Record<string, number>;
  /** CPU time the hypervisor gave to other machines (all cores): noise on a shared VM. */
  steal: number;
}

function stealSeconds(): number {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/) ?? [];
    return Number(cpu[8] ?? 0) / TICKS;
  } catch {
    return 0;
  }
}

/**
 * Samples CPU use. `rootPid` roots the Worker's workerd process; `postgresDataDir`
 * identifies the bench's own Postgres server among others on the machine.
 */
export function sampleCpu(rootPid: number, postgresDataDir: string, pids: Record<string, number> = {}): CpuSample {
  let workerd = 0;
  let postgres = 0;
  const all = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  let postmaster = '';
  // A workerd given by name (bench:watchers --split: the status instance) is counted apart.
  const given = new Set(Object.values(pids).map(String));
  for (const pid of all) {
    const cmd = cmdline(pid);
    // (not the `runuser` that starts it as the postgres user when the bench runs as root)
    if (cmd.includes('postgres') && cmd.includes(postgresDataDir) && !cmd.startsWith('runuser')) postmaster = pid;
  }
  for (const pid of all) {
    const cmd = cmdline(pid);
    const t = times(pid);
    if (!t) continue;
    if (postmaster && (pid === postmaster || ppid(pid) === postmaster)) {
      // Exited backends are counted in the postmaster's cutime/cstime.
      postgres += t[0] + t[1] + (pid === postmaster ? t[2] + t[3] : 0);
      continue;
    }
    if (cmd.includes('workerd') && cmd.includes('--inspector-addr') && !given.has(pid) && descendsFrom(pid, rootPid)) workerd += t[0] + t[1];
  }
  const named: Record<string, number> = {};
  for (const [name, pid] of Object.entries(pids)) {
    const t = times(String(pid));
    named[name] = t ? t[0] + t[1] + t[2] + t[3] : 0;
  }
  const own = process.cpuUsage();
  return { workerd, postgres, bench: (own.user + own.system) / 1e6, named, steal: stealSeconds() };
}

/** Difference of two samples. */
export function cpuBetween(a: CpuSample, b: CpuSample): CpuSample {
  return {
    workerd: b.workerd - a.workerd,
    postgres: b.postgres - a.postgres,
    bench: b.bench - a.bench,
    named: Object.fromEntries(Object.entries(b.named).map(([k, v]) => [k, v - (a.named[k] ?? 0)])),
    steal: b.steal - a.steal,
  };
}
