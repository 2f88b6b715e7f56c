import path from 'node:path';
import type { BootableDisk } from './target/types.js';
import { cacheRoot, cached, hashInputs, rememberedSha256 } from './util/cache.js';
import { step } from './util/log.js';
import { accelFor, hostFacts } from './vm/accel.js';
import { type Accel, type Machine, MachineError, type SavedState, type SavedStateVm, savedStateKeyInputs } from './vm/index.js';
import type { BootOptions } from './machines.js';

/** A saved state in the cache, with how the machine it was saved from booted. */
export interface CachedSavedState extends SavedState {
  accel: Accel;
  /** The boot-to-SSH of the machine that was saved (ms). */
  bootToSshMs: number;
  savedAt: string;
}

/** The machine options a saved state depends on; the others (ports, guest forwards, timeouts) may differ. */
export type SavedStateOptions = Pick<BootOptions, 'accel' | 'memoryMiB' | 'cpus' | 'cpuModel' | 'extraArgs'>;

/** Saving the state boots the disk once: start it with `startMachine` (given, to avoid an import cycle). */
export type BootForSave = (disk: BootableDisk, name: string, options: BootOptions) => Promise<Machine>;

/**
 * The saved state of `disk` booted (SSH up, systemd done starting units), made on first need and cached
 * under `saved-state/<key>`, the key hashing the disk's content, the qemu version and the VM's arguments:
 * a changed disk gets a new state. Concurrent runs make it once (cache lock).
 */
export async function savedStateOf(disk: BootableDisk, options: SavedStateOptions, bootForSave: BootForSave): Promise<CachedSavedState> {
  // The same decision the machine makes (accelFor): the state is only valid for the accelerator it runs under.
  const accel = await accelFor(options.accel ?? { cacheDir: cacheRoot() }, disk.boot, options.cpuModel);
  const vm: SavedStateVm = { accel, boot: disk.boot, memoryMiB: options.memoryMiB, cpus: options.cpus, cpuModel: options.cpuModel, extraArgs: options.extraArgs };
  const [diskSha256, { qemuVersion }] = await Promise.all([rememberedSha256(disk.qcow2), hostFacts()]);
  const key = await hashInputs(savedStateKeyInputs(diskSha256, qemuVersion, vm));
  const entry = await cached('saved-state', key, (dir) =>
    step('host', `save the booted state of ${path.basename(path.dirname(disk.qcow2))}/${path.basename(disk.qcow2)} (${accel})`, async () => {
      const { memoryMiB, cpus, cpuModel, extraArgs } = options;
      await using machine = await bootForSave(disk, `saved-state-${key.slice(0, 8)}`, { from: 'disk', accel, memoryMiB, cpus, cpuModel, extraArgs });
      // "Booted" means systemd has finished starting units, not just that sshd answers.
      const state = (await machine.execute(['systemctl', 'is-system-running', '--wait'], { timeout: '120s' })).stdout.trim();
      if (state !== 'running' && state !== 'degraded') {
        throw new MachineError('E_SAVE_STATE', machine.name, `systemd reports the system ${state || '(nothing)'} instead of running; not saving it`);
      }
      const saved = await machine.saveState(dir);
      return { ...saved, accel, bootToSshMs: Math.round(machine.bootToSshMs ?? Number.NaN), savedAt: new Date().toISOString() };
    }),
  );
  return entry.value;
}
