import type { Command, ExecOptions, ExecResult } from '../ssh/index.js';
import { sh } from '../ssh/index.js';
import { type ParsedRefs, parseDeploymentPath, parseMetadataString, parseRefs } from '../ostree/index.js';
import { LayercheckError } from '../util/errors.js';
import type { GuestDriver } from './types.js';

/** The part of a Machine a driver talks through. */
export interface GuestShell {
  readonly name: string;
  succeed(command: Command, options?: ExecOptions): Promise<string>;
  execute(command: Command, options?: ExecOptions): Promise<ExecResult>;
}

/** A shell that can also reboot the machine and log in again (a `Machine`, or it seen through sudo). */
export interface GuestMachine extends GuestShell {
  reboot(): Promise<void>;
}

/**
 * Reads ostree state with plain `ostree` commands, which every ostree-based target has. Update verbs
 * (rebase, upgrade) belong to the target's own tool and come with its driver.
 */
export class OstreeDriver implements GuestDriver {
  readonly name: string = 'ostree';

  /** The shell the driver's commands go through (with `sudo -n` when the login is not root). */
  constructor(readonly shell: GuestShell) {}

  async refs(): Promise<ParsedRefs> {
    return parseRefs(await this.shell.succeed(['ostree', 'refs']));
  }

  async bootedCommit(): Promise<string> {
    // ostree-prepare-root follows the `ostree=` karg to the deployment directory, named <commit>.<serial>.
    const target = await this.shell.succeed(sh('readlink -f "$(tr " " "\\n" < /proc/cmdline | sed -n "s/^ostree=//p")"'));
    return parseDeploymentPath(target).commit;
  }

  async commitMetadata(commit: string, key: string): Promise<string | undefined> {
    const result = await this.shell.execute(['ostree', 'show', `--print-metadata-key=${key}`, commit]);
    if (result.exitCode !== 0) {
      if (/No such metadata key/i.test(result.stderr)) return undefined;
      throw new LayercheckError('E_GUEST_STATE', `${this.shell.name}: \`ostree show --print-metadata-key=${key} ${commit}\` failed: ${result.stderr.trim()}`);
    }
    return parseMetadataString(result.stdout);
  }
}
