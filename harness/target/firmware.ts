import { existsSync } from 'node:fs';
import os from 'node:os';
import type { Firmware } from '../vm/types.js';

/** Debian's `ovmf` package: the 4 MiB UEFI build, code read-only, variables copied per machine by `Machine`. */
export const OVMF = { pkg: 'ovmf', code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' } as const;

/** The firmware a disk with a bootloader boots with: SeaBIOS (qemu's default) or OVMF. */
export function firmwareFor(choice: 'bios' | 'uefi'): Firmware {
  return choice === 'bios' ? 'bios' : { uefi: { code: OVMF.code, vars: OVMF.vars } };
}

/**
 * A kernel the KVM probe can boot when the machine itself boots through firmware (there is no kernel
 * file to borrow): the host's own, where the distribution keeps it readable. Undefined elsewhere, and
 * then `E2E_ACCEL` must say which accelerator to use.
 */
export function hostKernel(release = os.release(), exists = existsSync): string | undefined {
  const file = `/boot/vmlinuz-${release}`;
  return exists(file) ? file : undefined;
}
