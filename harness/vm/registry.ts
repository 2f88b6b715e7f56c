import { rmSync } from 'node:fs';
import { constants } from 'node:os';

/**
 * Every live qemu this process started, so that an interrupted run leaves none behind: on SIGINT,
 * SIGTERM, SIGHUP and on exit each registered pid is SIGKILLed and its temp dir removed, synchronously.
 * This covers the process that spawned qemu; `setpriv --pdeathsig KILL` covers that process being killed
 * outright (a vitest worker torn down with SIGKILL). A vitest fork whose parent died (SIGINT sent to the
 * parent alone, as `kill` or a CI timeout does) is orphaned but alive: its IPC channel closing is the sign.
 * The handlers are armed only while something is registered.
 */
export interface Reapable {
  /** For log and error messages. */
  readonly name: string;
  /** The current qemu pid; changes on every boot, undefined between boots. */
  pid: number | undefined;
  /** Removed when the process is interrupted. */
  tempDir: string | undefined;
}

const live = new Set<Reapable>();
const HANDLED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Track a qemu (fill `pid`/`tempDir` as they become known); returns the function that forgets it. */
export function register(name: string): { entry: Reapable; unregister: () => void } {
  const entry: Reapable = { name, pid: undefined, tempDir: undefined };
  live.add(entry);
  armHandlers();
  return {
    entry,
    unregister: () => {
      live.delete(entry);
      armHandlers();
    },
  };
}

/** The registered entries (tests and diagnostics). */
export function registered(): readonly Reapable[] {
  return [...live];
}

/** SIGKILL every registered qemu and remove its temp dir, synchronously; never throws. */
export function reapAll(): void {
  for (const entry of live) {
    if (entry.pid !== undefined) killQuietly(entry.pid);
    if (entry.tempDir !== undefined) {
      try {
        rmSync(entry.tempDir, { recursive: true, force: true });
      } catch {
        // nothing more can be done while exiting
      }
    }
  }
  live.clear();
  armHandlers();
}

/** SIGKILL a pid we started; a process already gone is not an error. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // ESRCH: already gone
  }
}

/** The shell convention for a process ended by a signal. */
export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}

/** Listen while machines are registered, not otherwise (a `disconnect` listener keeps the IPC channel referenced). */
function armHandlers(): void {
  const armed = process.listeners('exit').includes(reapAll);
  if (live.size > 0 && !armed) {
    process.on('exit', reapAll);
    for (const signal of HANDLED_SIGNALS) process.on(signal, onSignal);
    if (process.connected) process.on('disconnect', onParentGone);
  } else if (live.size === 0 && armed) {
    process.off('exit', reapAll);
    for (const signal of HANDLED_SIGNALS) process.off(signal, onSignal);
    process.off('disconnect', onParentGone);
  }
}

function onSignal(signal: NodeJS.Signals): void {
  reapAll(); // which also disarms
  endAsSignal(signal);
}

/** The parent of this IPC child is gone: nothing will read our results, so end as a SIGTERM would. */
function onParentGone(): void {
  reapAll();
  endAsSignal('SIGTERM');
}

/**
 * End the process as `signal` means it to, leaving other listeners (a test runner) their say. Merely
 * exiting would pre-empt them; merely returning would leave execa's signal-exit, which acts only when it
 * is alone, waiting on us. So re-raise; but a re-raised signal is dropped if the last listener goes away
 * before it is dispatched (signal-exit unloads once its children, our qemus, are gone), hence the fallback.
 */
function endAsSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) === 0) process.exit(exitCodeForSignal(signal));
  process.kill(process.pid, signal);
  setTimeout(() => process.exit(exitCodeForSignal(signal)), 2_000).unref();
}
