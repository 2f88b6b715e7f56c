/**
 * Names the reference OS uses, in one place. They mirror Fedora CoreOS's (`fedora:fedora/x86_64/coreos/stable`).
 */
export const REFERENCE_OS = {
  osname: 'refos',
  remote: 'refos',
  branch: 'refos/x86_64/stable',
  fsLabel: 'refos-root',
  /** The guest reaches the harness's ostree HTTP server here (a qemu guestfwd). */
  remoteUrl: 'http://10.0.2.100/repo',
  ostreeServer: { guestIp: '10.0.2.100', guestPort: 80 },
  /** The guest reaches the harness's registry here (a qemu guestfwd), as `10.0.2.101:5000/<name>:<tag>`. */
  registry: { guestIp: '10.0.2.101', guestPort: 5000 },
  /**
   * `quiet`: under TCG every console line costs guest time; panics, failed units and the emergency shell
   * still print, and so does sshd's "Server listening" line (its unit logs to the console). One UART: the
   * kernel would otherwise probe four.
   */
  kargs: ['root=LABEL=refos-root', 'rw', 'console=ttyS0', 'quiet', '8250.nr_uarts=1'],
  /** Free space matters: a rebase or upgrade writes a new deployment on the same filesystem. */
  diskSize: '4G',
} as const;
