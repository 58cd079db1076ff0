// Where the machine's CPU went during a run, from /proc (Linux): the gateway (its main thread,
// which runs JavaScript, apart from the rest: libuv's pool running PKCS#11, GC and compiler
// threads), the load generator, this process, and everything else. On 2 CPUs shared by all of
// them this is what bounds the figures, and "everything else" says whether a run was disturbed.
import { readFileSync } from 'node:fs';

/** Clock ticks per second of /proc's counters (USER_HZ; 100 on Linux). */
const TICKS = 100;

/** Cumulative CPU counters at one moment, in ticks. */
export interface CpuSnapshot {
  readonly at: number;
  readonly machineBusy: number;
  readonly machineTotal: number;
  /** Time the hypervisor gave this machine's CPUs to someone else. */
  readonly steal: number;
  readonly gateway: number;
  readonly gatewayMainThread: number;
  readonly self: number;
  /** CPU of this process's children that have exited and been reaped (ghz runs). */
  readonly reapedChildren: number;
}

/** CPUs (1 = one core fully busy) used on average between two snapshots. */
export interface CpuShares {
  readonly gateway: number;
  readonly gatewayMainThread: number;
  readonly loadGenerator: number;
  readonly bench: number;
  readonly other: number;
  readonly idle: number;
  /** Taken by the hypervisor (other tenants of the host): neither ours nor idle. */
  readonly steal: number;
}

/** utime + stime (and cutime + cstime) of a /proc/<pid>/stat line; the name field may hold spaces. */
function procTicks(path: string): { own: number; children: number } {
  try {
    const line = readFileSync(path, 'utf8');
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    // After the name: state is field 3, so utime (14) is at index 11.
    const n = (i: number) => Number(fields[i] ?? 0);
    return { own: n(11) + n(12), children: n(13) + n(14) };
  } catch {
    return { own: 0, children: 0 };
  }
}

/** Reads the counters now; `gatewayPid` 0 when there is no gateway process. */
export function cpuSnapshot(gatewayPid: number): CpuSnapshot {
  const cpu = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = cpu;
  const self = procTicks('/proc/self/stat');
  return {
    at: performance.now(),
    machineBusy: user + nice + system + irq + softirq,
    machineTotal: user + nice + system + idle + iowait + irq + softirq + steal,
    steal,
    gateway: gatewayPid ? procTicks(`/proc/${gatewayPid}/stat`).own : 0,
    gatewayMainThread: gatewayPid ? procTicks(`/proc/${gatewayPid}/task/${gatewayPid}/stat`).own : 0,
    self: self.own,
    reapedChildren: self.children,
  };
}

/** Average CPUs used by each party between `a` and `b` (the load generator: children reaped in between). */
export function cpuShares(a: CpuSnapshot, b: CpuSnapshot): CpuShares {
  const seconds = (b.at - a.at) / 1000;
  const cpus = (ticks: number) => Number((ticks / TICKS / seconds).toFixed(2));
  const gateway = b.gateway - a.gateway;
  const loadGenerator = b.reapedChildren - a.reapedChildren;
  const bench = b.self - a.self;
  const busy = b.machineBusy - a.machineBusy;
  return {
    gateway: cpus(gateway),
    gatewayMainThread: cpus(b.gatewayMainThread - a.gatewayMainThread),
    loadGenerator: cpus(loadGenerator),
    bench: cpus(bench),
    other: cpus(Math.max(0, busy - gateway - loadGenerator - bench)),
    idle: cpus(b.machineTotal - a.machineTotal - busy - (b.steal - a.steal)),
    steal: cpus(b.steal - a.steal),
  };
}
