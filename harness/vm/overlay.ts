import { access, constants } from 'node:fs/promises';
import { resolve } from 'node:path';
import { execa } from 'execa';
import { SetupError } from '../util/errors.js';

/**
 * A qcow2 overlay over `base`: the machine writes only to the overlay, so the cached base disk is never
 * changed and any number of machines can share it. The backing path is absolute so the overlay works
 * wherever it lives.
 */
export async function createOverlay(base: string, overlay: string, baseFormat: 'qcow2' | 'raw' = 'qcow2'): Promise<void> {
  const backing = resolve(base);
  try {
    await access(backing, constants.R_OK);
  } catch (error) {
    throw new SetupError(`base disk ${backing} is not readable (${(error as NodeJS.ErrnoException).code ?? String(error)})`, { base: backing });
  }
  const result = await execa('qemu-img', overlayArgs(backing, overlay, baseFormat), { reject: false });
  if (result.failed) {
    throw new SetupError(`qemu-img could not create an overlay of ${backing}: ${result.stderr || result.message}`, { base: backing, overlay });
  }
}

/** The `qemu-img` arguments that create the overlay (the dry run prints them). */
export function overlayArgs(base: string, overlay: string, baseFormat: 'qcow2' | 'raw' = 'qcow2'): string[] {
  return ['create', '-q', '-f', 'qcow2', '-F', baseFormat, '-b', resolve(base), overlay];
}
