/** Which accelerator qemu runs the guest with. */
export type Accel = 'kvm' | 'tcg';

/** How a machine boots: the kernel given to qemu directly (reference OS), or firmware reading the disk. */
export type BootSpec =
  | { kind: 'direct'; kernel: string; initrd?: string; cmdline: string }
  | { kind: 'firmware'; firmware: Firmware };

export type Firmware = 'bios' | { uefi: { code: string; vars: string } };

/**
 * Called before every boot with the machine's overlay path: with direct kernel boot the boot entry on
 * the disk (and its `ostree=` karg) changes when a deployment is written, so it must be re-read each time.
 */
export type BootSpecProvider = (overlayPath: string) => Promise<BootSpec> | BootSpec;

/** A guest-side address whose connections qemu hands to a host loopback port. */
export interface GuestFwd {
  guestIp: string;
  guestPort: number;
  hostPort: number;
}

/** A file exposed to the guest through fw_cfg (Ignition reads `opt/com.coreos/config`). */
export interface FwCfgEntry {
  name: string;
  file: string;
}
