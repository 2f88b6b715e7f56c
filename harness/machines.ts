import path from 'node:path';
import { readBootSpecFromQcow2 } from './disk/boot-files.js';
import type { DiskDescription } from './disk/types.js';
import { clientKey } from './fixtures/reference.js';
import { REPORTS_DIR } from './report/metrics.js';
import { cacheRoot } from './util/cache.js';
import { savedStateOf } from './saved-states.js';
import { SetupError } from './util/errors.js';
import { type Accel, Machine, type MachineOptions, type SavedState } from './vm/index.js';

export interface BootOptions extends Partial<Omit<MachineOptions, 'name' | 'disk' | 'ssh' | 'restore'>> {
  /**
   * `'disk'` boots the disk; `'saved-state'` starts from a saved state of the disk booted (made on first
   * need and cached by the disk's hash), reaching SSH in a second or two instead of a full boot. Use it
   * when a scenario needs "this disk, booted", never when it tests booting itself. @default 'disk'
   */
  from?: 'disk' | 'saved-state';
}

/** Console logs of every machine of a run land here (attached to reports later). */
export const CONSOLE_LOG_DIR = path.join(REPORTS_DIR, 'console');

/**
 * Boot a built disk: the Machine gets the disk's pinned host key and the run's client key, and a boot
 * spec provider that uses the disk's own first boot and afterwards re-reads the default entry from the
 * machine's overlay (a new deployment changes the kernel arguments).
 */
export async function startMachine(disk: DiskDescription, name: string, options: BootOptions = {}): Promise<Machine> {
  const { from = 'disk', ...machineOptions } = options;
  const key = await clientKey();
  const booted = new Set<string>();
  let restore: { accel: Accel; restore: SavedState } | undefined;
  if (from === 'saved-state') {
    if (options.fwCfg?.length) throw new SetupError(`${name}: fwCfg is read at boot, and a saved state has booted already: boot the disk (from: 'disk') to pass fwCfg`);
    const saved = await savedStateOf(disk, options, startMachine);
    restore = { accel: saved.accel, restore: { overlay: saved.overlay, state: saved.state } };
  } else if (from !== 'disk') {
    throw new SetupError(`${name}: \`from\` must be 'disk' or 'saved-state', got ${JSON.stringify(from)}`);
  }
  return Machine.start({
    name,
    logDir: CONSOLE_LOG_DIR,
    accel: { cacheDir: cacheRoot() },
    ...machineOptions,
    ...restore,
    disk: {
      path: disk.qcow2,
      bootSpec: async (overlay) => {
        if (!booted.has(overlay) || disk.boot.kind !== 'direct') {
          booted.add(overlay);
          return disk.boot;
        }
        return readBootSpecFromQcow2(overlay, path.dirname(overlay), path.join(path.dirname(overlay), 'boot'));
      },
    },
    ssh: { username: 'root', privateKey: key.privateKey, hostKey: disk.hostKey },
  });
}
