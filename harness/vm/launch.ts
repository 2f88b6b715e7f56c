import { open, rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { ConsoleCapture } from './console.js';
import { findQuietPort } from './port.js';
import { QmpClient } from './qmp.js';
import { type QemuProcess, exitWithin, spawnQemu } from './qemu-process.js';

/** qemu dies at once when its SSH port was taken between our check and its bind; try another port. */
const PORT_RACE_ATTEMPTS = 3;

/** The fd number qemu reads a saved state from (`-incoming fd:3`): the first after stdin, stdout, stderr. */
export const INCOMING_FD = 3;

export interface LaunchOptions {
  /** The argument list for a given SSH port. */
  args: (sshPort: number) => string[];
  /** A saved state file, opened and handed to qemu as fd {@link INCOMING_FD}; `args` must say `-incoming fd:3`. */
  incomingState?: string;
  qmpSocket: string;
  serial: ConsoleCapture;
  /** Written into the console log before this boot's output. */
  banner: (pid: number, sshPort: number) => string;
  /** Called as soon as qemu runs (register its pid before anything can fail). */
  onSpawn: (qemu: QemuProcess) => void;
}

export interface Launched {
  qemu: QemuProcess;
  qmp: QmpClient;
  sshPort: number;
  /** `performance.now()` at spawn: the start of boot-to-SSH. */
  startedAt: number;
}

/** Spawn qemu on a quiet port, capture its console and connect QMP; on failure qemu is killed. */
export async function launchQemu(options: LaunchOptions): Promise<Launched> {
  const { args, qmpSocket, serial, banner, onSpawn, incomingState } = options;
  for (let attempt = 1; ; attempt++) {
    const sshPort = await findQuietPort();
    const argv = args(sshPort);
    await rm(qmpSocket, { force: true });
    const startedAt = performance.now();
    // qemu gets its own copy of the descriptor: ours is closed as soon as it runs.
    const state = incomingState === undefined ? undefined : await open(incomingState, 'r');
    let qemu: QemuProcess;
    try {
      qemu = await spawnQemu(argv, { passFds: state ? [state.fd] : [] });
    } finally {
      await state?.close();
    }
    onSpawn(qemu);
    serial.attach(qemu.stdout, banner(qemu.pid, sshPort), startedAt);
    try {
      const qmp = await QmpClient.connect(qmpSocket, { timeout: '30s', isAlive: () => qemu.exit()?.description });
      return { qemu, qmp, sshPort, startedAt };
    } catch (error) {
      const exit = qemu.exit() ?? (await exitWithin(qemu, 1_000));
      if (exit && /host forwarding rule/i.test(exit.stderr) && attempt < PORT_RACE_ATTEMPTS) continue;
      qemu.kill();
      throw serial.error('E_QEMU_START', `qemu did not start: ${exit?.description ?? (error as Error).message}`, { args: argv }, error);
    }
  }
}
