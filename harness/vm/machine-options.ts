import type { Command, SshTarget } from '../ssh/index.js';
import type { Duration } from '../util/duration.js';
import type { Accel, BootSpecProvider, FwCfgEntry, GuestFwd } from './types.js';

export interface MachineDisk {
  /** The base image. Never written: the machine boots a private qcow2 overlay on top of it. */
  path: string;
  /** @default 'qcow2' */
  format?: 'qcow2' | 'raw';
  /**
   * Called with the overlay's path before every boot (the boot entry changes with each deployment).
   * Files it extracts may go in `dirname(overlayPath)`, the machine's temp dir, removed on dispose.
   */
  bootSpec: BootSpecProvider;
}

/** Pick the accelerator with `resolveAccel`; the probe boots the machine's own direct-boot kernel unless told otherwise. */
export interface AccelProbe {
  cacheDir: string;
  /** Required when the machine boots through firmware (there is no kernel to borrow). */
  probeKernel?: string;
  probeInitrd?: string;
}

export interface MachineTimeouts {
  /** From starting qemu to an SSH login. @default '180s' with TCG, '90s' with KVM */
  bootToSsh?: Duration;
  /** For the guest to power off or reboot (qemu exits either way). @default '120s' */
  shutdown?: Duration;
}

/**
 * sshd's own "Server listening on ADDR port 22." (the reference OS sends sshd's log to the console), or
 * systemd's status line for the unit (Fedora CoreOS and most distributions print it).
 */
export const SSHD_READY_PATTERN = /\bServer listening on \S+ port 22\b|\bStarted (?:ssh|sshd|openssh-server)\.service\b/;

/** A VM saved once booted (`Machine.saveState`): what a machine needs to start from it instead of booting. */
export interface SavedState {
  /** The saved machine's overlay as it was at that moment. Read-only: restored machines get overlays on top of it. */
  overlay: string;
  /** qemu's migration stream of the stopped VM (RAM and device state). */
  state: string;
}

export interface MachineOptions {
  /** Unique among the machines sharing a `logDir`: letters, digits, `.`, `_`, `-`. */
  name: string;
  disk: MachineDisk;
  ssh: Omit<SshTarget, 'name' | 'host' | 'port'>;
  accel: Accel | AccelProbe;
  /** @default 1024 */
  memoryMiB?: number;
  /** @default 2 */
  cpus?: number;
  /** @default 'host' with KVM, `TCG_CPU_MODEL` (`max` without ERMS and FSRM) with TCG */
  cpuModel?: string;
  guestfwds?: readonly GuestFwd[];
  fwCfg?: readonly FwCfgEntry[];
  extraArgs?: readonly string[];
  /**
   * The console line that says the guest's sshd is ready: its time is `Machine.sshdReadyMs`, the guest's
   * own share of boot-to-SSH. @default SSHD_READY_PATTERN
   */
  sshdReadyPattern?: RegExp;
  /** What `reboot()` runs in the guest (a login that is not root needs `sudo -n`). @default ['systemctl', 'reboot'] */
  rebootCommand?: Command;
  /** What `shutdown()` runs in the guest when logged in. @default ['systemctl', 'poweroff'] */
  poweroffCommand?: Command;
  /** The serial console is written to `<logDir>/<name>.console.log`. */
  logDir: string;
  /**
   * Start from this saved state instead of booting. The saved VM must be this one: same disk, memory,
   * CPUs, CPU model and accelerator (host ports and guest forwards may differ). Only the first start
   * restores; after a guest reboot the overlay boots as usual.
   */
  restore?: SavedState;
  timeouts?: MachineTimeouts;
}
