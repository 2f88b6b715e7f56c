import path from 'node:path';
import { readBootSpecFromQcow2 } from './disk/boot-files.js';
import type { DiskDescription } from './disk/types.js';
import { clientKey } from './fixtures/reference.js';
import { REPORTS_DIR } from './report/metrics.js';
import { cacheRoot } from './util/cache.js';
import { Machine, type MachineOptions } from './vm/index.js';

export interface BootOptions extends Partial<Omit<MachineOptions, 'name' | 'disk' | 'ssh'>> {}

/** Console logs of every machine of a run land here (attached to reports later). */
export const CONSOLE_LOG_DIR = path.join(REPORTS_DIR, 'console');

/**
 * Boot a built disk: the Machine gets the disk's pinned host key and the run's client key, and a boot
 * spec provider that uses the disk's own first boot and afterwards re-reads the default entry from the
 * machine's overlay (a new deployment changes the kernel arguments).
 */
export async function startMachine(disk: DiskDescription, name: string, options: BootOptions = {}): Promise<Machine> {
  const key = await clientKey();
  const booted = new Set<string>();
  return Machine.start({
    name,
    logDir: CONSOLE_LOG_DIR,
    accel: { cacheDir: cacheRoot() },
    ...options,
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
