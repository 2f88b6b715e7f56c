import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isRunning } from '../util/ancestors.js';
import { lockEntry } from '../util/cache.js';
import { log } from '../util/log.js';
import type { Duration } from '../util/duration.js';
import { waitUntil } from '../util/wait.js';

/** What one machine takes while it runs. */
export interface MachineDemand {
  memoryMiB: number;
  cpus: number;
}

/** The host as the scheduler sees it. */
export interface HostCapacity {
  /** `MemAvailable` of /proc/meminfo. */
  memAvailableMiB: number;
  cores: number;
}

export interface CapacityPolicy {
  /** vCPUs per host core that running machines may add up to (TCG threads mostly wait on each other). @default 2 */
  vcpusPerCore: number;
  /** Memory left to the host and the harness. @default 1024 */
  reserveMiB: number;
}

export const DEFAULT_POLICY: CapacityPolicy = { vcpusPerCore: 2, reserveMiB: 1024 };

/**
 * Whether a machine may start now, kola-style: the memory of the machines already admitted counts as
 * taken even if their guests have not touched it yet, and their vCPUs may add up to `vcpusPerCore` per
 * host core. A machine alone is always admitted (it would never fit better later).
 */
export function admits(demand: MachineDemand, host: HostCapacity, running: readonly MachineDemand[], policy: CapacityPolicy = DEFAULT_POLICY): { ok: boolean; reason: string } {
  if (running.length === 0) return { ok: true, reason: 'no other machine runs' };
  const memory = running.reduce((n, m) => n + m.memoryMiB, 0);
  const vcpus = running.reduce((n, m) => n + m.cpus, 0);
  const freeMiB = host.memAvailableMiB - memory - policy.reserveMiB;
  const vcpuBudget = host.cores * policy.vcpusPerCore;
  if (demand.memoryMiB > freeMiB) return { ok: false, reason: `${running.length} machines hold ${memory} MiB; ${Math.max(0, freeMiB)} MiB free for ${demand.memoryMiB}` };
  if (vcpus + demand.cpus > vcpuBudget) return { ok: false, reason: `${running.length} machines hold ${vcpus} of ${vcpuBudget} vCPUs; ${demand.cpus} more do not fit` };
  return { ok: true, reason: `${vcpus + demand.cpus} of ${vcpuBudget} vCPUs, ${demand.memoryMiB} of ${freeMiB} MiB` };
}

/** How many machines like `demand` may run at once on `host` (for vitest's worker count). */
export function machineSlots(demand: MachineDemand, host: HostCapacity, policy: CapacityPolicy = DEFAULT_POLICY): number {
  const byMemory = Math.floor((host.memAvailableMiB - policy.reserveMiB) / demand.memoryMiB);
  const byCpus = Math.floor((host.cores * policy.vcpusPerCore) / demand.cpus);
  return Math.max(1, Math.min(byMemory, byCpus));
}

/** `MemAvailable` in MiB from the text of /proc/meminfo. */
export function memAvailableMiB(meminfo: string): number {
  const kib = Number(/^MemAvailable:\s+(\d+)\s*kB/m.exec(meminfo)?.[1]);
  if (!Number.isFinite(kib)) throw new Error('no MemAvailable line in /proc/meminfo');
  return Math.floor(kib / 1024);
}

/**
 * vitest's worker count for the e2e project: as many scenario files at once as machines of the default
 * size fit on this host (at least one; `E2E_WORKERS` overrides). Each machine start still waits for room.
 */
export function e2eWorkers(env: Readonly<Record<string, string | undefined>> = process.env): number {
  const forced = Number(env.E2E_WORKERS);
  if (Number.isInteger(forced) && forced >= 1) return forced;
  const host = { memAvailableMiB: memAvailableMiB(readFileSync('/proc/meminfo', 'utf8')), cores: os.availableParallelism() };
  return machineSlots({ memoryMiB: DEFAULT_MEMORY_MIB, cpus: DEFAULT_VCPUS }, host, policyFromEnv(env));
}

/** A machine's vCPUs unless it asks otherwise (qemu's `-smp` in harness/vm/args.ts). */
export const DEFAULT_VCPUS = 2;

/** A machine's memory unless it asks otherwise (qemu's `-m` in harness/vm/args.ts). */
export const DEFAULT_MEMORY_MIB = 1024;

/**
 * vCPUs per machine when `workers` scenario files run at once: the host's cores shared among their
 * machines, at least 1 and at most DEFAULT_VCPUS. Why: under TCG each vCPU is a host thread, and two
 * 2-vCPU machines on 2 cores made the scenarios 1.1-1.45× slower than two 1-vCPU ones (issue 8 notes).
 */
export function vcpusPerMachine(workers: number, cores: number): number {
  return Math.max(1, Math.min(DEFAULT_VCPUS, Math.floor(cores / Math.max(1, workers))));
}

/** The vCPUs of each machine of an e2e run (the e2e project's config and the dry run): `E2E_VCPUS`, else vcpusPerMachine. */
export function e2eVcpus(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return vcpusFromEnv(env) ?? vcpusPerMachine(e2eWorkers(env), os.availableParallelism());
}

/** `E2E_VCPUS` (an integer from 1 to 64), the vCPUs of a machine that does not ask; undefined if unset. */
export function vcpusFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): number | undefined {
  const raw = env.E2E_VCPUS;
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`E2E_VCPUS must be an integer from 1 to 64, not ${JSON.stringify(raw)}`);
  return n;
}

/** This host now. */
export async function hostCapacity(): Promise<HostCapacity> {
  return { memAvailableMiB: memAvailableMiB(await readFile('/proc/meminfo', 'utf8')), cores: os.availableParallelism() };
}

/** The policy, with `E2E_VCPUS_PER_CORE` overriding (e.g. 1 to run one 2-vCPU machine per 2 cores). */
export function policyFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): CapacityPolicy {
  const perCore = Number(env.E2E_VCPUS_PER_CORE);
  return { ...DEFAULT_POLICY, ...(env.E2E_VCPUS_PER_CORE && perCore > 0 ? { vcpusPerCore: perCore } : {}) };
}

/**
 * Tickets of running machines, shared by every harness process of this host. `LAYERCHECK_CAPACITY_DIR`
 * gives a separate pool (the unit tests use one: their few qemu starts must not queue behind an e2e run).
 */
const ticketsDir = (): string => process.env.LAYERCHECK_CAPACITY_DIR ?? path.join(os.tmpdir(), 'layercheck-capacity');
let ticketCount = 0;

/**
 * Wait until the host has room for a machine (every layercheck process on this host counts), take a
 * ticket and return its release. A ticket whose process is gone no longer counts.
 */
export async function reserveCapacity(name: string, demand: MachineDemand, options: { dir?: string; timeout?: Duration } = {}): Promise<() => Promise<void>> {
  const dir = options.dir ?? ticketsDir();
  await mkdir(dir, { recursive: true });
  const ticket = path.join(dir, `${process.pid}-${++ticketCount}.json`);
  const policy = policyFromEnv();
  let announced = false;
  await waitUntil(async () => {
    const release = await lockEntry(path.join(dir, 'tickets'), 'machine capacity', { quiet: true });
    try {
      const running = await liveTickets(dir);
      // A process that already runs a machine may be waiting for this one to finish its test: never make
      // it wait on others that may wait on it (two workers each holding one machine, each wanting two).
      const verdict = running.some((t) => t.pid === process.pid)
        ? { ok: true, reason: 'this process already runs a machine' }
        : admits(demand, await hostCapacity(), running, policy);
      if (verdict.ok) {
        await writeFile(ticket, JSON.stringify({ name, pid: process.pid, ...demand }));
        return { done: true, value: undefined };
      }
      if (!announced) log(name, `waiting for room to start: ${verdict.reason}`);
      announced = true;
      return { done: false, observation: verdict.reason };
    } finally {
      await release();
    }
  }, { what: `${name}: room on this host to start a machine`, timeout: options.timeout ?? '60m', interval: '1s' });
  return async () => {
    if (existsSync(ticket)) await rm(ticket, { force: true });
  };
}

async function liveTickets(dir: string): Promise<Array<MachineDemand & { pid: number }>> {
  const out: Array<MachineDemand & { pid: number }> = [];
  for (const file of await readdir(dir)) {
    if (!file.endsWith('.json')) continue;
    const held = JSON.parse(await readFile(path.join(dir, file), 'utf8').catch(() => '{}')) as Partial<MachineDemand & { pid: number }>;
    if (typeof held.pid !== 'number' || !isRunning(held.pid)) {
      await rm(path.join(dir, file), { force: true });
      continue;
    }
    out.push({ pid: held.pid, memoryMiB: held.memoryMiB ?? 0, cpus: held.cpus ?? 0 });
  }
  return out;
}
