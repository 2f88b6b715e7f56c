import { InvalidOptionError } from './errors.js';
import type { Accel, BootSpec, FwCfgEntry, GuestFwd } from './types.js';
import { DEFAULT_MEMORY_MIB, DEFAULT_VCPUS } from './capacity.js';

export interface QemuDisk {
  /** The image qemu writes to: a machine's private qcow2 overlay, never a shared base. */
  path: string;
  /** @default 'qcow2' */
  format?: 'qcow2' | 'raw';
  /**
   * Host caching. `unsafe` ignores the guest's flushes: the overlay is thrown away with the machine, and
   * qemu still writes everything out when it exits (which a reboot relies on). @default 'unsafe'
   */
  cache?: 'unsafe' | 'writeback' | 'none';
}

/**
 * The CPU of a TCG guest: everything qemu emulates (`max`) but ERMS and FSRM. With them the guest's kernel
 * and glibc copy and clear memory with `rep movsb`/`rep stosb`, which TCG runs one byte per loop
 * iteration: a 1-vCPU boot took 8.3-9.3 s against 6.5-7.4 s without them, `dd` of 300 MiB 0.67 s
 * against 0.25 s, the warm mission suite 182 s against 154 s (README, Speed).
 */
export const TCG_CPU_MODEL = 'max,-erms,-fsrm';

export interface QemuOptions {
  /** Shown in `ps` and qemu's messages; letters, digits, `.`, `_`, `-`. */
  name: string;
  accel: Accel;
  /** @default 1024 */
  memoryMiB?: number;
  /** @default 2 */
  cpus?: number;
  /** `-cpu` model. @default 'host' with KVM, {@link TCG_CPU_MODEL} with TCG */
  cpuModel?: string;
  /** Omitted only for diskless boots such as the accelerator probe. */
  disk?: QemuDisk;
  boot: BootSpec;
  /** Host loopback port forwarded to the guest's port 22. */
  sshPort?: number;
  /** Guest addresses served by host loopback ports (content servers behind the accounting proxy). */
  guestfwds?: readonly GuestFwd[];
  /** Path of the QMP unix socket qemu listens on. */
  qmpSocket?: string;
  fwCfg?: readonly FwCfgEntry[];
  /** Appended last, unvalidated. */
  extraArgs?: readonly string[];
  /**
   * Start from a saved VM state instead of booting: the migration stream on this file descriptor of
   * qemu (`-incoming fd:N`). The rest of the argument list must describe the same VM as when it was saved.
   */
  incomingFd?: number;
}

/** The longest path a unix socket address holds on Linux (`sun_path` is 108 bytes with its NUL). */
const MAX_UNIX_SOCKET_PATH = 107;
/** qemu's fw_cfg file names are at most 55 characters (`FW_CFG_MAX_FILE_PATH` minus the NUL). */
const MAX_FW_CFG_NAME = 55;

/**
 * The qemu-system-x86_64 argument list for one boot. Pure: no file or process is touched, so every
 * decision here is unit-tested. The network is user-mode with `restrict=on`: the guest reaches the host
 * only through the forwards listed, so nothing in a scenario depends on the host's network.
 */
export function qemuArgs(options: QemuOptions): string[] {
  const { name, accel, memoryMiB = DEFAULT_MEMORY_MIB, cpus = DEFAULT_VCPUS, disk, boot, sshPort, guestfwds = [], qmpSocket, fwCfg = [], extraArgs = [], incomingFd } = options;
  check('name', 'letters, digits, `.`, `_` or `-` (at most 64)', name, typeof name === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name));
  check('accel', "'kvm' or 'tcg'", accel, accel === 'kvm' || accel === 'tcg');
  check('memoryMiB', 'an integer from 128', memoryMiB, Number.isInteger(memoryMiB) && memoryMiB >= 128);
  check('cpus', 'an integer from 1 to 64', cpus, Number.isInteger(cpus) && cpus >= 1 && cpus <= 64);
  const cpuModel = options.cpuModel ?? (accel === 'kvm' ? 'host' : TCG_CPU_MODEL);
  check('cpuModel', 'a non-empty qemu CPU model', cpuModel, typeof cpuModel === 'string' && /^[^\s]+$/.test(cpuModel));

  const args = [
    '-name', `guest=${name}`,
    '-nodefaults', '-no-user-config', '-display', 'none',
    '-machine', 'q35',
    '-accel', accel === 'kvm' ? 'kvm' : 'tcg,thread=multi',
    '-cpu', cpuModel,
    '-m', String(memoryMiB),
    '-smp', String(cpus),
    // A guest reboot makes qemu exit: the harness re-reads the boot entry and relaunches, since a direct
    // kernel boot would otherwise start the old kernel and cmdline again.
    '-no-reboot',
    // The serial console on stdout, which the harness captures; signal=off keeps Ctrl-C for the harness.
    '-chardev', 'stdio,id=console0,signal=off',
    '-serial', 'chardev:console0',
    // Entropy for the guest's sshd and TLS without waiting on jitter.
    '-device', 'virtio-rng-pci',
  ];
  args.push(...bootArgs(boot, disk !== undefined));
  if (disk) args.push(...diskArgs(disk));
  args.push(...networkArgs(sshPort, guestfwds));
  if (qmpSocket !== undefined) {
    check('qmpSocket', `a path of 1 to ${MAX_UNIX_SOCKET_PATH} bytes`, qmpSocket, isPath(qmpSocket) && Buffer.byteLength(qmpSocket) <= MAX_UNIX_SOCKET_PATH);
    args.push('-qmp', `unix:${escapeOptValue(qmpSocket)},server=on,wait=off`);
  }
  fwCfg.forEach((entry, i) => {
    check(`fwCfg[${i}].name`, `\`opt/...\` without commas, at most ${MAX_FW_CFG_NAME} characters`, entry.name,
      typeof entry.name === 'string' && /^opt\/[^,]+$/.test(entry.name) && entry.name.length <= MAX_FW_CFG_NAME);
    check(`fwCfg[${i}].file`, 'a non-empty path', entry.file, isPath(entry.file));
    args.push('-fw_cfg', `name=${entry.name},file=${escapeOptValue(entry.file)}`);
  });
  if (incomingFd !== undefined) {
    // 0-2 are qemu's stdin, the serial console and stderr.
    check('incomingFd', 'an integer from 3', incomingFd, Number.isInteger(incomingFd) && incomingFd >= 3);
    check('disk', 'present when restoring a saved state (the state needs its disk)', undefined, disk !== undefined);
    args.push('-incoming', `fd:${incomingFd}`);
  }
  check('extraArgs', 'an array of strings', extraArgs, Array.isArray(extraArgs) && extraArgs.every((a) => typeof a === 'string'));
  args.push(...extraArgs);
  return args;
}

function bootArgs(boot: BootSpec, hasDisk: boolean): string[] {
  if (boot?.kind === 'direct') {
    check('boot.kernel', 'a non-empty path', boot.kernel, isPath(boot.kernel));
    check('boot.cmdline', 'a string', boot.cmdline, typeof boot.cmdline === 'string');
    const args = ['-kernel', boot.kernel];
    if (boot.initrd !== undefined) {
      check('boot.initrd', 'a non-empty path', boot.initrd, isPath(boot.initrd));
      args.push('-initrd', boot.initrd);
    }
    return [...args, '-append', boot.cmdline];
  }
  if (boot?.kind === 'firmware') {
    check('disk', "present when boot.kind is 'firmware' (the firmware boots from it)", undefined, hasDisk);
    const { firmware } = boot;
    if (firmware === 'bios') return []; // SeaBIOS is qemu's default
    check('boot.firmware', "'bios' or { uefi: { code, vars } }", firmware, typeof firmware === 'object' && firmware !== null && 'uefi' in firmware);
    check('boot.firmware.uefi.code', 'a non-empty path', firmware.uefi?.code, isPath(firmware.uefi?.code));
    check('boot.firmware.uefi.vars', 'a non-empty path', firmware.uefi?.vars, isPath(firmware.uefi?.vars));
    return [
      '-drive', `if=pflash,format=raw,unit=0,readonly=on,file=${escapeOptValue(firmware.uefi.code)}`,
      '-drive', `if=pflash,format=raw,unit=1,file=${escapeOptValue(firmware.uefi.vars)}`,
    ];
  }
  check('boot.kind', "'direct' or 'firmware'", (boot as { kind?: unknown } | undefined)?.kind, false);
  return [];
}

function diskArgs(disk: QemuDisk): string[] {
  const { path, format = 'qcow2', cache = 'unsafe' } = disk;
  check('disk.path', 'a non-empty path', path, isPath(path));
  check('disk.format', "'qcow2' or 'raw'", format, format === 'qcow2' || format === 'raw');
  check('disk.cache', "'unsafe', 'writeback' or 'none'", cache, cache === 'unsafe' || cache === 'writeback' || cache === 'none');
  return [
    '-drive', `if=none,id=disk0,file=${escapeOptValue(path)},format=${format},cache=${cache},discard=unmap`,
    '-device', 'virtio-blk-pci,drive=disk0,bootindex=1',
  ];
}

/** No forwards means no NIC: with `restrict=on` the guest could reach nothing through it anyway. */
function networkArgs(sshPort: number | undefined, guestfwds: readonly GuestFwd[]): string[] {
  const netdev = ['user', 'id=net0', 'restrict=on'];
  if (sshPort !== undefined) {
    check('sshPort', 'a TCP port (1-65535)', sshPort, isPort(sshPort));
    netdev.push(`hostfwd=tcp:127.0.0.1:${sshPort}-:22`);
  }
  check('guestfwds', 'an array', guestfwds, Array.isArray(guestfwds));
  guestfwds.forEach((fwd, i) => {
    check(`guestfwds[${i}].guestIp`, 'an IPv4 address', fwd.guestIp, isIpv4(fwd.guestIp));
    check(`guestfwds[${i}].guestPort`, 'a TCP port (1-65535)', fwd.guestPort, isPort(fwd.guestPort));
    check(`guestfwds[${i}].hostPort`, 'a TCP port (1-65535)', fwd.hostPort, isPort(fwd.hostPort));
    // The `cmd:` form starts one forwarder per connection; `tcp:` serves only the first connection (FACTS.md).
    // socat, not netcat: when the host server closes its side, socat passes the close on and exits, and
    // the guest sees it. netcat-openbsd waits for the guest to close first, so a server that ends a
    // response early (a registry dying mid-blob) looked like a stall and cost the guest its 30 s timeout.
    netdev.push(`guestfwd=tcp:${fwd.guestIp}:${fwd.guestPort}-cmd:${guestForwarder(fwd.hostPort).join(' ')}`);
  });
  if (netdev.length === 3) return [];
  return ['-netdev', netdev.join(','), '-device', 'virtio-net-pci,netdev=net0'];
}

/**
 * The program qemu starts for each guest connection of a guestfwd, its stdin and stdout the guest's side
 * (words split on spaces by qemu, no shell). socat ends both directions half a second after either ends.
 */
export function guestForwarder(hostPort: number): string[] {
  return ['socat', '-', `TCP:127.0.0.1:${hostPort}`];
}

/** In qemu's `key=value,...` option strings a literal comma is written twice. */
export function escapeOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

function check(option: string, expected: string, value: unknown, ok: boolean): asserts ok {
  if (!ok) throw new InvalidOptionError('qemuArgs', option, expected, value);
}

function isPath(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !value.includes('\0');
}

function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

function isIpv4(value: unknown): boolean {
  if (typeof value !== 'string') return false;
  const parts = value.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}
