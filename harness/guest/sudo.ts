import type { Command, ExecOptions, ExecResult } from '../ssh/index.js';
import { isShellScript } from '../ssh/index.js';
import type { GuestMachine } from './ostree-driver.js';

/**
 * The machine seen through `sudo -n`, for a login that is not root (`core` on Fedora CoreOS, which
 * has passwordless sudo). `-n` makes a sudo that wants a password fail at once instead of waiting on a
 * prompt nobody answers. A script runs as `sudo -n sh -c <script>`.
 */
export function withSudo(machine: GuestMachine): GuestMachine {
  const elevate = (command: Command): string[] => ['sudo', '-n', ...(isShellScript(command) ? ['sh', '-c', command.shell] : command)];
  return {
    name: machine.name,
    succeed: (command: Command, options?: ExecOptions): Promise<string> => machine.succeed(elevate(command), options),
    execute: (command: Command, options?: ExecOptions): Promise<ExecResult> => machine.execute(elevate(command), options),
    reboot: () => machine.reboot(),
  };
}
