import { describe, expect, test } from 'vitest';
import { type QemuOptions, escapeOptValue, qemuArgs } from './args.js';
import { InvalidOptionError } from './errors.js';

const direct: QemuOptions['boot'] = { kind: 'direct', kernel: '/k/vmlinuz', initrd: '/k/initramfs.img', cmdline: 'console=ttyS0 ostree=/ostree/boot.1/x/0' };
const base: QemuOptions = { name: 'refos-1', accel: 'tcg', boot: direct };

/** The value following `flag`, for every occurrence. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1]!] : []));
}

function invalid(options: Partial<QemuOptions> & Record<string, unknown>): InvalidOptionError {
  try {
    qemuArgs({ ...base, ...options } as QemuOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidOptionError);
    return error as InvalidOptionError;
  }
  throw new Error('qemuArgs accepted invalid options');
}

describe('qemuArgs', () => {
  test('a minimal TCG direct boot', () => {
    expect(qemuArgs({ name: 'vm', accel: 'tcg', boot: { kind: 'direct', kernel: '/vmlinuz', cmdline: 'console=ttyS0' } })).toEqual([
      '-name', 'guest=vm',
      '-nodefaults', '-no-user-config', '-display', 'none',
      '-machine', 'q35',
      '-accel', 'tcg,thread=multi',
      '-cpu', 'max,-erms,-fsrm',
      '-m', '1024',
      '-smp', '2',
      '-no-reboot',
      '-chardev', 'stdio,id=console0,signal=off',
      '-serial', 'chardev:console0',
      '-device', 'virtio-rng-pci',
      '-kernel', '/vmlinuz',
      '-append', 'console=ttyS0',
    ]);
  });

  test('KVM uses -accel kvm and the host CPU model', () => {
    const args = qemuArgs({ ...base, accel: 'kvm' });
    expect(values(args, '-accel')).toEqual(['kvm']);
    expect(values(args, '-cpu')).toEqual(['host']);
  });

  test('the CPU model can be chosen (e.g. to mask a feature a nested KVM mishandles)', () => {
    expect(values(qemuArgs({ ...base, accel: 'kvm', cpuModel: 'host,-arch-capabilities' }), '-cpu')).toEqual(['host,-arch-capabilities']);
  });

  test('memory and CPUs', () => {
    const args = qemuArgs({ ...base, memoryMiB: 2048, cpus: 4 });
    expect(values(args, '-m')).toEqual(['2048']);
    expect(values(args, '-smp')).toEqual(['4']);
  });

  test('direct boot passes kernel, initrd and cmdline as separate arguments', () => {
    const args = qemuArgs(base);
    expect(values(args, '-kernel')).toEqual(['/k/vmlinuz']);
    expect(values(args, '-initrd')).toEqual(['/k/initramfs.img']);
    expect(values(args, '-append')).toEqual(['console=ttyS0 ostree=/ostree/boot.1/x/0']);
  });

  test('a guest reboot makes qemu exit, and the console is stdout', () => {
    const args = qemuArgs(base);
    expect(args).toContain('-no-reboot');
    expect(values(args, '-serial')).toEqual(['chardev:console0']);
    expect(values(args, '-chardev')).toEqual(['stdio,id=console0,signal=off']);
  });

  test('the disk is a virtio block device, first to boot', () => {
    const args = qemuArgs({ ...base, disk: { path: '/tmp/vm/overlay.qcow2' } });
    expect(values(args, '-drive')).toEqual(['if=none,id=disk0,file=/tmp/vm/overlay.qcow2,format=qcow2,cache=unsafe,discard=unmap']);
    expect(values(args, '-device')).toContain('virtio-blk-pci,drive=disk0,bootindex=1');
  });

  test('disk format and cache can be chosen', () => {
    const args = qemuArgs({ ...base, disk: { path: '/d.raw', format: 'raw', cache: 'writeback' } });
    expect(values(args, '-drive')).toEqual(['if=none,id=disk0,file=/d.raw,format=raw,cache=writeback,discard=unmap']);
  });

  test('commas in paths are doubled inside option strings', () => {
    const args = qemuArgs({ ...base, disk: { path: '/tmp/a,b/overlay.qcow2' }, qmpSocket: '/tmp/a,b/qmp.sock', fwCfg: [{ name: 'opt/x', file: '/c,d' }] });
    expect(values(args, '-drive')[0]).toContain('file=/tmp/a,,b/overlay.qcow2,');
    expect(values(args, '-qmp')).toEqual(['unix:/tmp/a,,b/qmp.sock,server=on,wait=off']);
    expect(values(args, '-fw_cfg')).toEqual(['name=opt/x,file=/c,,d']);
    expect(escapeOptValue('a,,b')).toBe('a,,,,b');
  });

  test('no forwards, no NIC', () => {
    const args = qemuArgs(base);
    expect(args).not.toContain('-netdev');
    expect(args.some((a) => a.startsWith('virtio-net'))).toBe(false);
  });

  test('SSH is forwarded from a loopback port on a restricted user network', () => {
    const args = qemuArgs({ ...base, sshPort: 40022 });
    expect(values(args, '-netdev')).toEqual(['user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:40022-:22']);
    expect(values(args, '-device')).toContain('virtio-net-pci,netdev=net0');
  });

  test('guestfwds use the cmd: form (socat), which serves every connection', () => {
    const args = qemuArgs({
      ...base,
      sshPort: 2222,
      guestfwds: [
        { guestIp: '10.0.2.100', guestPort: 5000, hostPort: 35000 },
        { guestIp: '10.0.2.101', guestPort: 80, hostPort: 35001 },
      ],
    });
    expect(values(args, '-netdev')).toEqual([
      'user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:2222-:22,' +
        'guestfwd=tcp:10.0.2.100:5000-cmd:socat - TCP:127.0.0.1:35000,' +
        'guestfwd=tcp:10.0.2.101:80-cmd:socat - TCP:127.0.0.1:35001',
    ]);
  });

  test('guestfwds alone still get a NIC', () => {
    const args = qemuArgs({ ...base, guestfwds: [{ guestIp: '10.0.2.100', guestPort: 80, hostPort: 8080 }] });
    expect(values(args, '-netdev')).toEqual(['user,id=net0,restrict=on,guestfwd=tcp:10.0.2.100:80-cmd:socat - TCP:127.0.0.1:8080']);
  });

  test('QMP listens on a unix socket without waiting for a client', () => {
    expect(values(qemuArgs({ ...base, qmpSocket: '/tmp/vm/qmp.sock' }), '-qmp')).toEqual(['unix:/tmp/vm/qmp.sock,server=on,wait=off']);
  });

  test('fw_cfg entries (Ignition config)', () => {
    const args = qemuArgs({ ...base, fwCfg: [{ name: 'opt/com.coreos/config', file: '/tmp/config.ign' }] });
    expect(values(args, '-fw_cfg')).toEqual(['name=opt/com.coreos/config,file=/tmp/config.ign']);
  });

  test('BIOS firmware boot adds nothing but the disk', () => {
    const args = qemuArgs({ ...base, boot: { kind: 'firmware', firmware: 'bios' }, disk: { path: '/d.qcow2' } });
    expect(args).not.toContain('-kernel');
    expect(args).not.toContain('-append');
    expect(values(args, '-drive')).toHaveLength(1);
  });

  test('UEFI firmware boot maps code read-only and vars writable', () => {
    const args = qemuArgs({
      ...base,
      boot: { kind: 'firmware', firmware: { uefi: { code: '/usr/share/OVMF/OVMF_CODE.fd', vars: '/tmp/vm/vars.fd' } } },
      disk: { path: '/d.qcow2' },
    });
    expect(values(args, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd',
      'if=pflash,format=raw,unit=1,file=/tmp/vm/vars.fd',
      'if=none,id=disk0,file=/d.qcow2,format=qcow2,cache=unsafe,discard=unmap',
    ]);
  });

  test('a restore reads the saved state from the given fd; the rest of the list is the same VM', () => {
    const disk = { path: '/m/overlay.qcow2' };
    const booted = qemuArgs({ ...base, disk, sshPort: 2222 });
    const restored = qemuArgs({ ...base, disk, sshPort: 2222, incomingFd: 3 });
    expect(values(restored, '-incoming')).toEqual(['fd:3']);
    expect(restored.filter((_, i) => restored[i] !== '-incoming' && restored[i - 1] !== '-incoming')).toEqual(booted);
    expect(values(booted, '-incoming')).toEqual([]);
  });

  test('extra arguments come last, verbatim', () => {
    const args = qemuArgs({ ...base, extraArgs: ['-device', 'virtio-balloon-pci'] });
    expect(args.slice(-2)).toEqual(['-device', 'virtio-balloon-pci']);
  });

  test('the input is not modified and the output is fresh each time', () => {
    const options: QemuOptions = { ...base, guestfwds: [{ guestIp: '10.0.2.100', guestPort: 80, hostPort: 8080 }], extraArgs: ['-S'] };
    const snapshot = structuredClone(options);
    const first = qemuArgs(options);
    first.push('mutated');
    expect(qemuArgs(options)).not.toContain('mutated');
    expect(options).toEqual(snapshot);
  });

  describe('rejects invalid input, quoting the bad value', () => {
    test.each([
      [{ name: '' }, 'name', '``'],
      [{ name: 'a,b' }, 'name', '`a,b`'],
      [{ name: 'with space' }, 'name', '`with space`'],
      [{ accel: 'hvf' }, 'accel', '`hvf` (string)'],
      [{ memoryMiB: -1 }, 'memoryMiB', '`-1` (number)'],
      [{ memoryMiB: 1.5e3 + 0.5 }, 'memoryMiB', '`1500.5`'],
      [{ memoryMiB: 64 }, 'memoryMiB', '`64`'],
      [{ cpus: 0 }, 'cpus', '`0` (number)'],
      [{ cpus: '2' }, 'cpus', '`2` (string)'],
      [{ cpuModel: 'host -x' }, 'cpuModel', '`host -x`'],
      [{ sshPort: 0 }, 'sshPort', '`0` (number)'],
      [{ sshPort: 70000 }, 'sshPort', '`70000`'],
      [{ sshPort: 22.5 }, 'sshPort', '`22.5`'],
      [{ qmpSocket: `/tmp/${'x'.repeat(120)}` }, 'qmpSocket', 'xxxx'],
      [{ qmpSocket: '' }, 'qmpSocket', '``'],
      [{ disk: { path: '' } }, 'disk.path', '``'],
      [{ disk: { path: '/d', format: 'vmdk' } }, 'disk.format', '`vmdk`'],
      [{ disk: { path: '/d', cache: 'directsync' } }, 'disk.cache', '`directsync`'],
      [{ boot: { kind: 'direct', kernel: '', cmdline: '' } }, 'boot.kernel', '``'],
      [{ boot: { kind: 'direct', kernel: '/k', initrd: '', cmdline: '' } }, 'boot.initrd', '``'],
      [{ boot: { kind: 'direct', kernel: '/k' } }, 'boot.cmdline', '`undefined` (undefined)'],
      [{ boot: { kind: 'pxe' } }, 'boot.kind', '`pxe`'],
      [{ boot: { kind: 'firmware', firmware: 'bios' } }, 'disk', 'firmware'],
      [{ boot: { kind: 'firmware', firmware: 'ovmf' }, disk: { path: '/d' } }, 'boot.firmware', '`ovmf`'],
      [{ boot: { kind: 'firmware', firmware: { uefi: { code: '/c', vars: '' } } }, disk: { path: '/d' } }, 'boot.firmware.uefi.vars', '``'],
      [{ guestfwds: [{ guestIp: '10.0.2.300', guestPort: 80, hostPort: 1 }] }, 'guestfwds[0].guestIp', '`10.0.2.300`'],
      [{ guestfwds: [{ guestIp: 'registry', guestPort: 80, hostPort: 1 }] }, 'guestfwds[0].guestIp', '`registry`'],
      [{ guestfwds: [{ guestIp: '10.0.2.2', guestPort: 80, hostPort: 1 }, { guestIp: '10.0.2.3', guestPort: -80, hostPort: 1 }] }, 'guestfwds[1].guestPort', '`-80`'],
      [{ guestfwds: [{ guestIp: '10.0.2.2', guestPort: 80, hostPort: 99999 }] }, 'guestfwds[0].hostPort', '`99999`'],
      [{ fwCfg: [{ name: 'com.coreos/config', file: '/f' }] }, 'fwCfg[0].name', '`com.coreos/config`'],
      [{ fwCfg: [{ name: `opt/${'x'.repeat(60)}`, file: '/f' }] }, 'fwCfg[0].name', 'opt/xxx'],
      [{ fwCfg: [{ name: 'opt/a', file: '' }] }, 'fwCfg[0].file', '``'],
      [{ extraArgs: ['-S', 1] }, 'extraArgs', '`-S,1`'],
      [{ incomingFd: 1, disk: { path: '/d' } }, 'incomingFd', '`1`'],
      [{ incomingFd: 3 }, 'disk', 'undefined'],
    ] as const)('%j -> %s', (options, option, quoted) => {
      const error = invalid(options as Record<string, unknown>);
      expect(error.code).toBe('E_INVALID_OPTION');
      expect(error.message).toContain(`\`${option}\` must be`);
      expect(error.message).toContain(quoted);
      expect(error.context.option).toBe(option);
    });
  });
});
