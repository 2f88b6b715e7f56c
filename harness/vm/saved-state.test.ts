import { describe, expect, test } from 'vitest';
import { migrationVerdict, openGuestConnections, saveUri, savedStateArgs, savedStateKeyInputs } from './saved-state.js';
import type { SavedStateVm } from './saved-state.js';

const vm: SavedStateVm = { accel: 'tcg', boot: { kind: 'direct', kernel: '/d/vmlinuz', initrd: '/d/initramfs.img', cmdline: 'console=ttyS0 ostree=/ostree/boot.1/x/0' } };

describe('saveUri', () => {
  test('qemu writes the stream through cat, the path quoted for sh', () => {
    expect(saveUri('/cache/saved-state/abc.building-12/state')).toBe('exec:cat > /cache/saved-state/abc.building-12/state');
    expect(saveUri("/tmp/it's here/state")).toBe(`exec:cat > '/tmp/it'\\''s here/state'`);
  });
});

describe('openGuestConnections', () => {
  // `info usernet` of qemu 7.2 right after the harness logged out, then once the connection was gone.
  const listening = [
    'Hub -1 (net0):',
    '  Protocol[State]    FD  Source Address  Port   Dest. Address  Port RecvQ SendQ',
    '  TCP[HOST_FORWARD]  15       127.0.0.1 40197       10.0.2.15    22     0     0',
  ];
  test('a listening host forward is no connection', () => {
    expect(openGuestConnections(listening.join('\n'))).toEqual([]);
  });
  test('a connection slirp closed first, in TIME_WAIT, is closed: both FINs were sent and acknowledged', () => {
    const text = [...listening, '  TCP[TIME_WAIT]      20       127.0.0.1 44775       10.0.2.15    22     0     0'].join('\n');
    expect(openGuestConnections(text)).toEqual([]);
  });
  test('a connection in any other state is reported', () => {
    const text = [...listening, '  TCP[FIN_WAIT_2]     17       127.0.0.1 40197       10.0.2.15    22     0     0'].join('\n');
    expect(openGuestConnections(text)).toEqual(['TCP[FIN_WAIT_2]     17       127.0.0.1 40197       10.0.2.15    22     0     0']);
  });
});

describe('migrationVerdict', () => {
  test('completed is done; active and setup are waited on; failed and cancelled carry the reason', () => {
    expect(migrationVerdict({ status: 'completed' })).toEqual({ done: true, value: undefined });
    expect(migrationVerdict({ status: 'active' })).toEqual({ done: false, observation: 'migration status active' });
    expect(migrationVerdict({})).toEqual({ done: false, observation: 'migration status none' });
    expect(migrationVerdict({ status: 'failed', 'error-desc': 'Unable to write to command' })).toMatchObject({ done: false, failed: 'migration failed: Unable to write to command' });
    expect(migrationVerdict({ status: 'cancelled' })).toMatchObject({ done: false, failed: 'migration cancelled' });
  });
});

describe('savedStateArgs and the cache key', () => {
  test('the canonical list is the VM without names, paths and ports', () => {
    const args = savedStateArgs(vm);
    expect(args).toContain('-kernel');
    expect(args.join(' ')).toContain('hostfwd=tcp:127.0.0.1:22-:22');
    expect(args.join(' ')).toContain('file=/overlay.qcow2');
    expect(args).not.toContain('-incoming');
  });

  const key = (changes: Partial<SavedStateVm> = {}, disk = 'a'.repeat(64), qemu = '7.2.22') => JSON.stringify(savedStateKeyInputs(disk, qemu, { ...vm, ...changes }));
  test('the same VM on the same disk and qemu gives the same key', () => {
    expect(key()).toBe(key());
    // Defaults spelled out are the same VM.
    expect(key({ memoryMiB: 1024, cpus: 2 })).toBe(key());
  });
  test.each([
    ['another disk', () => key({}, 'b'.repeat(64))],
    ['another qemu', () => key({}, 'a'.repeat(64), '8.2.0')],
    ['KVM instead of TCG', () => key({ accel: 'kvm' })],
    ['more memory', () => key({ memoryMiB: 2048 })],
    ['one CPU', () => key({ cpus: 1 })],
    ['another CPU model', () => key({ cpuModel: 'qemu64' })],
    ['another kernel command line', () => key({ boot: { ...vm.boot, cmdline: 'console=ttyS0 quiet' } as SavedStateVm['boot'] })],
    ['extra arguments', () => key({ extraArgs: ['-device', 'virtio-balloon'] })],
  ])('%s gives another key', (_what, other) => {
    expect(other()).not.toBe(key());
  });
});
