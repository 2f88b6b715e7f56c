import { SetupError, describeValue } from '../util/errors.js';
import type { Accel } from './types.js';

/** The verdict on which accelerator to use, and why (printed once per run). */
export interface AccelVerdict {
  accel: Accel;
  reason: string;
}

/** `E2E_ACCEL=kvm|tcg` forces the accelerator; unset or empty means decide by probing. */
export function parseAccelOverride(value: string | undefined): Accel | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'kvm' || v === 'tcg') return v;
  throw new SetupError(`E2E_ACCEL must be 'kvm' or 'tcg' (or unset to probe), got ${describeValue(value)}`, { E2E_ACCEL: value });
}

/** What the probe verdict depends on: a new host kernel, qemu or CPU may change it. */
export interface AccelHost {
  kernelRelease: string;
  qemuVersion: string;
  cpuModel: string;
}

export function accelCacheKey(host: AccelHost): string {
  return [host.kernelRelease, host.qemuVersion, host.cpuModel].map((part) => part.trim().replace(/\s+/g, ' ')).join(' | ');
}

/** `model name : AMD EPYC` from /proc/cpuinfo; `unknown` when the file has none (some architectures). */
export function cpuModelFromCpuinfo(cpuinfo: string): string {
  return /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown';
}

/** `QEMU emulator version 7.2.22 (Debian ...)` -> `7.2.22 (Debian ...)`. */
export function qemuVersionFromOutput(output: string): string {
  const firstLine = output.split('\n', 1)[0]?.trim() ?? '';
  return /version\s+(.+)$/.exec(firstLine)?.[1] ?? firstLine;
}

/** The cache file: one verdict per host key, so a cache directory shared between hosts stays right. */
export type AccelCache = Record<string, AccelVerdict & { probedAt: string }>;

export function parseAccelCache(text: string): AccelCache {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return {};
    const cache: AccelCache = {};
    for (const [key, entry] of Object.entries(parsed as Record<string, unknown>)) {
      if (typeof entry !== 'object' || entry === null) continue;
      const { accel, reason, probedAt } = entry as Record<string, unknown>;
      if ((accel === 'kvm' || accel === 'tcg') && typeof reason === 'string' && typeof probedAt === 'string') {
        cache[key] = { accel, reason, probedAt };
      }
    }
    return cache;
  } catch {
    return {}; // a damaged cache only costs one probe
  }
}

/**
 * The probe boot works when the kernel printed its banner and then got far enough to prove timers and
 * interrupts run. Under broken nested KVM the kernel hangs before its banner ever reaches the serial
 * console (FACTS.md: right after `Probing EDD`), so the banner alone is nearly enough; the later marker
 * guards against a hang just after it.
 */
export const PROBE_BANNER = /Linux version \d/;
export const PROBE_PROGRESS = /clocksource: Switched to clocksource|Trying to unpack rootfs|Freeing unused kernel|Run \/init as init process|VFS: Unable to mount root fs/;

export type ProbeConsoleVerdict = { booted: true } | { booted: false; observation: string };

/** Judge the probe's console output so far. */
export function judgeProbeConsole(text: string): ProbeConsoleVerdict {
  const banner = PROBE_BANNER.exec(text);
  if (banner && PROBE_PROGRESS.test(text.slice(banner.index))) return { booted: true };
  const lastLine = text.split(/\r?\n/).map((l) => l.trim()).filter(Boolean).at(-1);
  const stage = banner ? 'the kernel banner but no boot progress after it' : 'no kernel banner';
  return { booted: false, observation: `${stage}; last console line: ${lastLine === undefined ? '(none)' : JSON.stringify(lastLine)}` };
}
