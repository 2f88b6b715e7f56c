import { readFileSync } from 'node:fs';

/** The parent pid from the text of `/proc/<pid>/stat` (the command name may hold spaces and parentheses). */
export function parentFromStat(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  return Number.isInteger(ppid) && ppid > 0 ? ppid : undefined;
}

/** This process's ancestors, nearest first, up to (not including) init. Empty where /proc is missing. */
export function ancestorPids(pid: number = process.pid): number[] {
  const chain: number[] = [];
  let current = pid;
  for (;;) {
    let parent: number | undefined;
    try {
      parent = parentFromStat(readFileSync(`/proc/${current}/stat`, 'utf8'));
    } catch {
      return chain;
    }
    if (parent === undefined || parent <= 1 || chain.includes(parent)) return chain;
    chain.push(parent);
    current = parent;
  }
}

/** The state letter of `/proc/<pid>/stat` (R, S, D, Z, ...), after the command name. */
function stateFromStat(stat: string): string {
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
}

/** Whether `pid` still runs: a process that is gone, or a zombie nobody has reaped yet, does not. */
export function isRunning(pid: number): boolean {
  try {
    return stateFromStat(readFileSync(`/proc/${pid}/stat`, 'utf8')) !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Call `onGone` once when any process that started this one exits. `kill -INT <npm pid>` makes npm
 * exit without signalling its children, which would leave the run (and its VMs) going on unseen;
 * watching the chain lets the run stop itself instead. Returns the function that stops watching.
 */
export function watchAncestors(onGone: (pid: number) => void, intervalMs = 1000): () => void {
  const chain = ancestorPids();
  const timer = setInterval(() => {
    const gone = chain.find((pid) => !isRunning(pid));
    if (gone !== undefined) {
      clearInterval(timer);
      onGone(gone);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
