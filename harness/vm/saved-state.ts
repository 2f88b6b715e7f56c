import { quoteArg } from '../ssh/quote.js';
import { qemuArgs } from './args.js';
import type { Accel, BootSpec } from './types.js';

/**
 * qemu 7.2 knows no `file:` migration URI: qemu writes the stream through `sh -c 'cat > FILE'` (restores
 * read it from a file descriptor instead, see `-incoming fd:`).
 */
export function saveUri(stateFile: string): string {
  return `exec:cat > ${quoteArg(stateFile)}`;
}

/**
 * The guest connections qemu's user network still tracks, from `info usernet`, but listening host forwards
 * and TIME_WAIT: slirp holds a connection it closed first in TIME_WAIT for 10 s (2 MSL) after both sides
 * sent and acknowledged their FIN, so the guest's end is closed and its process gone. Waiting those 10 s
 * was most of a save (~14 s). slirp saves none of these connections anyway (only guest-forward sockets).
 */
export function openGuestConnections(infoUsernet: string): string[] {
  return infoUsernet
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => /^TCP\[/.test(line) && !/^TCP\[(HOST_FORWARD|TIME_WAIT)\]/.test(line));
}

/** The part of `query-migrate`'s answer a save waits on. */
export interface MigrationStatus {
  status?: string;
  'error-desc'?: string;
}

/** Whether a save is done (`completed`), still going, or failed (with qemu's reason). */
export function migrationVerdict(answer: MigrationStatus): { done: true; value: undefined } | { done: false; failed?: string; observation: string } {
  const status = answer.status ?? 'none';
  if (status === 'completed') return { done: true, value: undefined };
  if (status === 'failed' || status === 'cancelled') {
    return { done: false, failed: `migration ${status}${answer['error-desc'] ? `: ${answer['error-desc']}` : ''}`, observation: status };
  }
  return { done: false, observation: `migration status ${status}` };
}

/** What of a machine a saved state depends on: restoring needs the same VM as the one saved. */
export interface SavedStateVm {
  accel: Accel;
  boot: BootSpec;
  memoryMiB?: number;
  cpus?: number;
  cpuModel?: string;
  extraArgs?: readonly string[];
}

/** Bump when the way a state is saved changes (what the guest does before, how it is written). */
export const SAVED_STATE_FORMAT = 'layercheck saved state 2';

/**
 * The argument list of a machine of `vm`, with everything that may differ between the saved machine
 * and its restores (name, paths, ports, guest forwards) replaced by fixed values: two machines whose
 * lists are equal here are the same VM to qemu's migration. Part of the saved state's cache key, so a
 * new device in `qemuArgs` invalidates every saved state.
 */
export function savedStateArgs(vm: SavedStateVm): string[] {
  return qemuArgs({
    name: 'saved', accel: vm.accel, boot: vm.boot, memoryMiB: vm.memoryMiB, cpus: vm.cpus, cpuModel: vm.cpuModel,
    extraArgs: vm.extraArgs, sshPort: 22, qmpSocket: '/qmp.sock', disk: { path: '/overlay.qcow2', format: 'qcow2' },
  });
}

/** The cache key's inputs: the disk's content hash, the qemu version, the VM's canonical arguments. */
export function savedStateKeyInputs(diskSha256: string, qemuVersion: string, vm: SavedStateVm): string[] {
  return [SAVED_STATE_FORMAT, diskSha256, qemuVersion, JSON.stringify(savedStateArgs(vm))];
}
