import { open, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { release } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { type Duration, toMs } from '../util/duration.js';
import { SetupError } from '../util/errors.js';
import { log } from '../util/log.js';
import {
  type AccelHost, type AccelVerdict, accelCacheKey, cpuModelFromCpuinfo, judgeProbeConsole, parseAccelCache,
  parseAccelOverride, qemuVersionFromOutput,
} from './accel-decision.js';
import { qemuArgs } from './args.js';
import type { AccelProbe } from './machine-options.js';
import type { Accel, BootSpec } from './types.js';
import { QEMU_BINARY, spawnQemu } from './qemu-process.js';
import { register } from './registry.js';

export interface ResolveAccelOptions {
  /** Where `accel.json` keeps the probe's verdict per host. */
  cacheDir: string;
  /** A kernel to boot for the probe (the guest's own is best). */
  probeKernel: string;
  probeInitrd?: string;
  /** CPU model the machines will use with KVM; the probe must use the same. @default 'host' */
  cpuModel?: string;
  /** A working KVM prints the banner and boot progress within a second or two. @default '10s' */
  probeTimeout?: Duration;
  /** @default '/dev/kvm' */
  kvmDevice?: string;
  /** @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

const resolved = new Map<string, Promise<AccelVerdict>>();

/**
 * KVM if it works here, else TCG. `E2E_ACCEL` overrides; an unopenable /dev/kvm means TCG; otherwise a
 * short diskless probe boot decides (FACTS.md: /dev/kvm can exist and accept VMs yet hang every guest),
 * and the verdict is cached per host kernel, qemu version and CPU model. Resolved once per process.
 */
export function resolveAccel(options: ResolveAccelOptions): Promise<AccelVerdict> {
  const env = options.env ?? process.env;
  const key = [options.cacheDir, options.kvmDevice, options.cpuModel ?? 'host', env.E2E_ACCEL ?? ''].join('\0');
  let verdict = resolved.get(key);
  if (verdict === undefined) {
    verdict = decide({ ...options, env }).then((v) => {
      log('host', `accelerator: ${v.accel} (${v.reason})`);
      return v;
    });
    verdict.catch(() => resolved.delete(key)); // a failed resolution may be retried
    resolved.set(key, verdict);
  }
  return verdict;
}

/** A machine's accelerator: as given, or resolved with a probe of its own direct-boot kernel. */
export async function accelFor(accel: Accel | AccelProbe, spec: BootSpec, cpuModel?: string): Promise<Accel> {
  return typeof accel === 'string' ? accel : (await accelVerdictFor(accel, spec, cpuModel)).accel;
}

/** `accelFor`'s probe, with the verdict's reason (what `npm run bench` prints). */
export async function accelVerdictFor(accel: AccelProbe, spec: BootSpec, cpuModel?: string): Promise<AccelVerdict> {
  const own = spec.kind === 'direct' && accel.probeKernel === undefined;
  const probeKernel = own ? spec.kernel : accel.probeKernel;
  if (probeKernel === undefined) {
    throw new SetupError("a machine booting through firmware needs accel.probeKernel for the KVM probe (or accel: 'kvm' | 'tcg')");
  }
  const probeInitrd = own ? spec.initrd : accel.probeInitrd;
  return resolveAccel({ cacheDir: accel.cacheDir, probeKernel, probeInitrd, cpuModel });
}

async function decide(options: ResolveAccelOptions): Promise<AccelVerdict> {
  const { cacheDir, kvmDevice = '/dev/kvm', env = process.env } = options;
  const override = parseAccelOverride(env.E2E_ACCEL);
  if (override) return { accel: override, reason: `E2E_ACCEL=${override}` };
  const kvmProblem = await kvmDeviceProblem(kvmDevice);
  if (kvmProblem) return { accel: 'tcg', reason: kvmProblem };

  const cachePath = join(cacheDir, 'accel.json');
  const cache = parseAccelCache(await readFile(cachePath, 'utf8').catch(() => '{}'));
  const key = accelCacheKey(await hostFacts());
  const cached = cache[key];
  if (cached) return { accel: cached.accel, reason: `${cached.reason} (probed ${cached.probedAt}, cached in ${cachePath})` };

  const probe = await probeBoot('kvm', options);
  const verdict: AccelVerdict = probe.ok
    ? { accel: 'kvm', reason: `a KVM probe boot reached: ${probe.detail}` }
    : { accel: 'tcg', reason: `${kvmDevice} opens but a KVM probe boot failed: ${probe.detail}` };
  cache[key] = { ...verdict, probedAt: new Date().toISOString() };
  await mkdir(cacheDir, { recursive: true });
  await writeFile(`${cachePath}.tmp`, `${JSON.stringify(cache, null, 2)}\n`);
  await rename(`${cachePath}.tmp`, cachePath);
  return verdict;
}

/** Why /dev/kvm cannot be used, or undefined when it opens read-write. */
async function kvmDeviceProblem(device: string): Promise<string | undefined> {
  try {
    await (await open(device, 'r+')).close();
    return undefined;
  } catch (error) {
    return `${device} cannot be opened read-write (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
}

/** The facts the cached verdict is keyed by. */
export async function hostFacts(): Promise<AccelHost> {
  const [version, cpuinfo] = await Promise.all([
    execa(QEMU_BINARY, ['--version']).then((r) => r.stdout),
    readFile('/proc/cpuinfo', 'utf8').catch(() => ''),
  ]);
  return { kernelRelease: release(), qemuVersion: qemuVersionFromOutput(version), cpuModel: cpuModelFromCpuinfo(cpuinfo) };
}

/** Boot the kernel without a disk and watch the serial console; kill the probe qemu either way. */
export async function probeBoot(accel: Accel, options: Omit<ResolveAccelOptions, 'cacheDir' | 'env'>): Promise<{ ok: boolean; detail: string }> {
  const { probeKernel, probeInitrd, cpuModel, probeTimeout = '10s' } = options;
  const args = qemuArgs({
    name: `${accel}-probe`, accel, cpuModel, memoryMiB: 512, cpus: 1,
    boot: { kind: 'direct', kernel: probeKernel, initrd: probeInitrd, cmdline: 'console=ttyS0 panic=-1' },
  });
  const { entry, unregister } = register(`${accel}-probe`);
  const qemu = await spawnQemu(args);
  entry.pid = qemu.pid;
  let text = '';
  let verdict = judgeProbeConsole(text);
  const booted = new Promise<void>((resolve) => {
    qemu.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString('utf8');
      verdict = judgeProbeConsole(text);
      if (verdict.booted) resolve();
    });
  });
  const timer = new AbortController();
  try {
    const outcome = await Promise.race([
      booted.then(() => 'booted' as const),
      qemu.exited.then(() => 'exited' as const),
      sleep(toMs(probeTimeout), 'timeout' as const, { signal: timer.signal }).catch(() => 'cancelled' as const),
    ]);
    if (outcome === 'booted' || verdict.booted) return { ok: true, detail: 'kernel banner and boot progress on the console' };
    if (outcome === 'exited') return { ok: false, detail: `${qemu.exit()?.description ?? 'qemu exited'}; ${verdict.observation}` };
    return { ok: false, detail: `nothing more within ${probeTimeout}; ${verdict.observation}` };
  } finally {
    timer.abort();
    qemu.kill();
    await qemu.exited;
    unregister();
  }
}
