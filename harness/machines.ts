import path from 'node:path';
import { readBootSpecFromQcow2 } from './disk/boot-files.js';
import { clientKey } from './fixtures/reference.js';
import type { KeyPair } from './ssh/index.js';
import { hostKernel } from './target/firmware.js';
import type { BootableDisk } from './target/types.js';
import { REPORTS_DIR } from './report/metrics.js';
import { cacheRoot } from './util/cache.js';
import { savedStateOf } from './saved-states.js';
import { log } from './util/log.js';
import { parseAccelOverride } from './vm/accel-decision.js';
import { vcpusFromEnv } from './vm/capacity.js';
import { Machine, type MachineOptions } from './vm/index.js';

export interface BootOptions extends Partial<Omit<MachineOptions, 'name' | 'disk' | 'ssh' | 'restore'>> {
  /**
   * `'disk'` boots the disk; `'saved-state'` starts from a saved state of the disk booted (made on first
   * need and cached by the disk's hash), reaching SSH in a second or two instead of a full boot. Use it
   * when a scenario needs "this disk, booted", never when it tests booting itself. A disk provisioned at
   * first boot (Ignition) boots for real: its provisioning is part of what is tested. @default 'disk'
   */
  from?: 'disk' | 'saved-state';
}

/** Console logs of every machine of a run land here (attached to reports later). */
export const CONSOLE_LOG_DIR = path.join(REPORTS_DIR, 'console');

/**
 * Boot a disk: the Machine gets the disk's pinned host key and the run's client key, and a boot
 * spec provider that uses the disk's own first boot and afterwards re-reads the default entry from the
 * machine's overlay (a new deployment changes the kernel arguments).
 */
export async function startMachine(disk: BootableDisk, name: string, options: BootOptions = {}): Promise<Machine> {
  const { from = 'disk', ...rest } = withDefaultVcpus(options);
  const base = machineOptions(disk, name, await clientKey(), rest);
  if (from === 'saved-state') {
    if (disk.provisioning || base.fwCfg?.length) {
      log(name, 'booting the disk: a disk provisioned at first boot has no saved state');
    } else {
      const saved = await savedStateOf(disk, { ...rest, accel: base.accel }, startMachine);
      return Machine.start({ ...base, accel: saved.accel, restore: { overlay: saved.overlay, state: saved.state } });
    }
  }
  return Machine.start(base);
}

/** `options` with `cpus` from `E2E_VCPUS` when it names none (set per run by the e2e project's config). */
function withDefaultVcpus<T extends { cpus?: number }>(options: T): T {
  const cpus = options.cpus ?? vcpusFromEnv();
  return cpus === undefined ? options : { ...options, cpus };
}

/**
 * The options of a machine booting `disk`: its provisioning (login, fw_cfg, memory) applied, the reboot
 * command elevated for a login that is not root, and, for firmware boots, the host's kernel for the KVM
 * probe (or `E2E_ACCEL`). Pure but for the boot spec provider, so the dry run shows the same machine.
 */
export function machineOptions(disk: BootableDisk, name: string, key: KeyPair, options: BootOptions = {}): MachineOptions {
  const provisioning = disk.provisioning;
  const username = provisioning?.sshUser ?? 'root';
  const booted = new Set<string>();
  const override = parseAccelOverride(process.env.E2E_ACCEL);
  const probeKernel = disk.boot.kind === 'firmware' ? hostKernel() : undefined;
  return {
    name,
    logDir: CONSOLE_LOG_DIR,
    // Without a kernel to probe with, E2E_ACCEL decides (accelFor says so when it is unset).
    accel: probeKernel === undefined && disk.boot.kind === 'firmware' && override ? override : { cacheDir: cacheRoot(), ...(probeKernel !== undefined ? { probeKernel } : {}) },
    ...(provisioning?.memoryMiB !== undefined ? { memoryMiB: provisioning.memoryMiB } : {}),
    ...(provisioning && provisioning.fwCfg.length > 0 ? { fwCfg: provisioning.fwCfg } : {}),
    ...(username !== 'root' ? { rebootCommand: ['sudo', '-n', 'systemctl', 'reboot'], poweroffCommand: ['sudo', '-n', 'systemctl', 'poweroff'] } : {}),
    ...withDefaultVcpus(options),
    disk: {
      path: disk.qcow2,
      bootSpec: async (overlay) => {
        if (!booted.has(overlay) || disk.boot.kind !== 'direct') {
          booted.add(overlay);
          return disk.boot;
        }
        // A deployment that kept the disk's kernel boots the files the disk already extracted.
        const diskBootFiles = [path.dirname(disk.boot.kernel), ...(disk.boot.initrd ? [path.dirname(disk.boot.initrd)] : [])];
        return readBootSpecFromQcow2(overlay, path.dirname(overlay), path.join(path.dirname(overlay), 'boot'), [...new Set(diskBootFiles)]);
      },
    },
    ssh: { username, privateKey: key.privateKey, hostKey: disk.hostKey },
  };
}
