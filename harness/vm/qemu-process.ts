import type { Readable } from 'node:stream';
import { execa } from 'execa';
import { SetupError } from '../util/errors.js';
import { killQuietly } from './registry.js';

export const QEMU_BINARY = 'qemu-system-x86_64';

/** How a qemu process ended. */
export interface QemuExit {
  exitCode: number | undefined;
  signal: string | undefined;
  stderr: string;
  /** `qemu exited with code 1: <stderr>`, for error messages and `isAlive`. */
  description: string;
}

export interface QemuProcess {
  readonly pid: number;
  /** The serial console (qemu's stdout); consume it or qemu blocks. */
  readonly stdout: Readable;
  /** Resolves when qemu has exited; never rejects. */
  readonly exited: Promise<QemuExit>;
  /** Undefined while qemu runs. */
  exit(): QemuExit | undefined;
  /** SIGKILL this qemu by its pid (only the process we started). */
  kill(): void;
}

export interface SpawnQemuOptions {
  /** Open file descriptors of ours that qemu gets as its fds 3, 4, ... (e.g. a saved state for `-incoming fd:3`). */
  passFds?: readonly number[];
}

/**
 * Start qemu under `setpriv --pdeathsig KILL` so the kernel kills it when this process dies, however it
 * dies; setpriv execs qemu, so the pid is qemu's own.
 */
export async function spawnQemu(args: readonly string[], options: SpawnQemuOptions = {}): Promise<QemuProcess> {
  const subprocess = execa('setpriv', ['--pdeathsig', 'KILL', '--', QEMU_BINARY, ...args], {
    // A plain fd number in stdio[3+] goes to child_process as it is (qemu inherits the descriptor);
    // execa's types admit numbers only for stdin/stdout/stderr, hence the cast.
    stdio: ['ignore', 'pipe', 'pipe', ...(options.passFds ?? [])] as unknown as ['ignore', 'pipe', 'pipe'],
    buffer: { stdout: false, stderr: true },
    reject: false,
    cleanup: true,
    stripFinalNewline: true,
  });
  const { pid, stdout } = subprocess;
  if (pid === undefined || stdout === null) {
    const result = await subprocess;
    throw new SetupError(`cannot start qemu (needs setpriv from util-linux and ${QEMU_BINARY}): ${result.message}`, { args });
  }
  let exit: QemuExit | undefined;
  const exited = subprocess.then((result) => {
    const stderr = String(result.stderr ?? '').trim();
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    exit = {
      exitCode: result.exitCode,
      signal: result.signal,
      stderr,
      description: `qemu ${how}${stderr ? `: ${stderr.replace(/\s*\n\s*/g, ' / ')}` : ''}`,
    };
    return exit;
  });
  return {
    pid,
    stdout,
    exited,
    exit: () => exit,
    kill: () => {
      if (exit === undefined) killQuietly(pid);
    },
  };
}

/** Wait up to `timeoutMs` for qemu to exit; the exit, or undefined if it still runs. */
export async function exitWithin(qemu: QemuProcess, timeoutMs: number): Promise<QemuExit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    return await Promise.race([qemu.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
