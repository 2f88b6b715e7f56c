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
   * kernel would otherwise probe four. `ip=` (dracut's static form): the initramfs configures qemu's
   * fixed user-network address once, and no network daemon stands between boot and sshd;
   * `net.ifnames=0` keeps the name it configured (udev cannot rename an interface that is up).
   * `cryptomgr.notests`, `ipv6.disable=1`: the kernel's crypto self-tests and IPv6 set-up were ~0.9 s of
   * its 3 s of initcalls under TCG (`initcall_debug`); the harness speaks IPv4 only. `initcall_blacklist`: the
   * KDF self-test (which `cryptomgr.notests` does not cover) and the encrypted-keys type (nothing here seals
   * keys) were another ~0.45 s.
   * `watchdog_thresh=60`: a soft lockup is reported after 2 × this many seconds of a CPU not scheduling
   * (20 s by default). A TCG vCPU on a host busy building disks went 26 s unscheduled and the console
   * watch failed the scenario on a lockup that was the host's; two minutes still catches a real one.
   */
  kargs: [
    'root=LABEL=refos-root', 'rw', 'console=ttyS0', 'quiet', '8250.nr_uarts=1', 'net.ifnames=0',
    'ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off', 'cryptomgr.notests', 'ipv6.disable=1',
    'watchdog_thresh=60', 'initcall_blacklist=crypto_kdf108_init,init_encrypted',
  ],
  /** Free space matters: a rebase or upgrade writes a new deployment on the same filesystem. */
  diskSize: '4G',
} as const;
