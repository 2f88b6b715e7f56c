import type { Command, ExecOptions, ExecResult } from '../ssh/index.js';
import { toCommandLine } from '../ssh/index.js';
import type { GuestMachine } from './ostree-driver.js';

/**
 * Test-only: a guest that answers commands from a table (the first key the command line contains wins;
 * anything else exits 127) and records every command line and reboot it was asked for.
 */
export function fakeGuest(answers: Record<string, Partial<ExecResult>>): { seen: string[]; machine: GuestMachine } {
  const seen: string[] = [];
  const run = async (command: Command, _options?: ExecOptions): Promise<ExecResult> => {
    const line = toCommandLine(command);
    seen.push(line);
    const key = Object.keys(answers).find((k) => line.includes(k));
    return { command: line, exitCode: 0, stdout: '', stderr: '', durationMs: 1, ...(key ? answers[key] : { exitCode: 127 }) };
  };
  return {
    seen,
    machine: {
      name: 'guest-1',
      execute: run,
      succeed: async (command: Command) => {
        const result = await run(command);
        if (result.exitCode !== 0) throw new Error(`failed: ${result.command}`);
        return result.stdout;
      },
      reboot: async () => {
        seen.push('(reboot)');
      },
    },
  };
}
