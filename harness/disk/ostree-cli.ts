import { execa } from 'execa';
import { LayercheckError } from '../util/errors.js';

/** Run the host's `ostree` with arguments; a failure names the command and quotes ostree's error. */
export async function ostree(args: readonly string[]): Promise<string> {
  const result = await execa('ostree', args, { reject: false });
  if (result.exitCode !== 0) {
    throw new LayercheckError('E_OSTREE', `\`ostree ${args.join(' ').slice(0, 300)}\` failed (exit ${result.exitCode}): ${result.stderr.trim()}`, {
      args,
      stderr: result.stderr,
    });
  }
  return result.stdout.trim();
}
