/** A console line that means the boot (or the guest) is lost, and what to tell the user. */
export interface ConsolePattern {
  pattern: RegExp;
  description: string;
}

/**
 * Known failures, in kola's manner: when a line matches, waits on this machine fail at once with the
 * description instead of running into their timeout. Lines are matched after ANSI escapes are removed.
 */
export const KNOWN_CONSOLE_FAILURES: readonly ConsolePattern[] = [
  { pattern: /Kernel panic - not syncing/, description: 'kernel panic' },
  { pattern: /\bkernel BUG at\b|\bBUG: (?:unable to handle|kernel NULL pointer|soft lockup|scheduling while atomic)/, description: 'kernel bug' },
  { pattern: /Entering emergency mode|You are in emergency mode|Emergency Shell|Reached target .*Emergency Mode/i, description: 'emergency shell (the root filesystem or a required unit failed)' },
  { pattern: /Out of memory: Killed process|invoked oom-killer/, description: 'out of memory (raise memoryMiB?)' },
  // Fedora CoreOS's emergency-shell banner (fedora-coreos-config's dracut module), and a failed Ignition
  // stage as systemd prints it: with the unit name (systemd >= 252) or its description only.
  { pattern: /Ignition has failed\. Please ensure your config is valid|Failed to start (?:ignition-[a-z-]+\.service|Ignition \()/, description: 'Ignition failed (check the config: spec 3.x, and what its stages logged)' },
  // systemd breaks a cycle by dropping a job (`[ SKIP ] Ordering cycle found, skipping X`): a unit silently never runs.
  { pattern: /Ordering cycle found, skipping|Found ordering cycle on /, description: 'systemd ordering cycle (a unit was skipped to break it)' },
  { pattern: /systemd\[1\]: (?:Caught <[A-Z]+>|Freezing execution)/, description: 'systemd (PID 1) crashed' },
  { pattern: /\bsegfault at [0-9a-f]+ ip [0-9a-f]+ sp\b/, description: 'a process segfaulted' },
];

export interface ConsoleFailure {
  description: string;
  line: string;
}

export function matchKnownFailure(line: string, patterns: readonly ConsolePattern[] = KNOWN_CONSOLE_FAILURES): ConsoleFailure | undefined {
  const hit = patterns.find((p) => p.pattern.test(line));
  return hit && { description: hit.description, line };
}
