import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SetupError } from '../util/errors.js';
import { setLogSink } from '../util/log.js';
import { MachineError } from './errors.js';
import { Machine } from './machine.js';
import type { MachineOptions } from './machine-options.js';
import { registered } from './registry.js';

// Only paths that end before a guest runs: unit tests never boot a VM.
describe('Machine.start failing before boot', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let previousSink: (line: string) => void;
  let options: MachineOptions;
  const machineDirs = async (): Promise<string[]> => (await readdir(tmpdir())).filter((n) => n.startsWith('layercheck-unit-vm-'));

  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
    previousSink = setLogSink(() => undefined);
    const base = join(temp.path, 'base.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    options = {
      name: 'unit-vm',
      disk: { path: base, bootSpec: () => ({ kind: 'direct', kernel: join(temp.path, 'vmlinuz'), cmdline: 'console=ttyS0' }) },
      ssh: { username: 'root', privateKey: 'unused', hostKey: 'unused' },
      accel: 'tcg',
      logDir: join(temp.path, 'logs'),
    };
  });
  afterEach(async () => {
    setLogSink(previousSink);
    await temp.cleanup();
  });

  test('qemu refusing its arguments: a MachineError with its stderr, and nothing left behind', async () => {
    const error = await Machine.start({ ...options, extraArgs: ['-no-such-option'] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MachineError);
    expect((error as MachineError).code).toBe('E_QEMU_START');
    expect((error as Error).message).toMatch(/^unit-vm: qemu did not start: qemu exited with code 1: .*-no-such-option: invalid option/);
    expect(registered()).toEqual([]);
    expect(await machineDirs()).toEqual([]);
  });

  test('invalid options are reported before qemu starts', async () => {
    await expect(Machine.start({ ...options, memoryMiB: 1 })).rejects.toThrow('qemuArgs: `memoryMiB` must be an integer from 128, got `1` (number)');
    expect(registered()).toEqual([]);
    expect(await machineDirs()).toEqual([]);
  });

  test('a missing base disk is a setup error', async () => {
    const error = await Machine.start({ ...options, disk: { ...options.disk, path: join(temp.path, 'missing.qcow2') } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect(registered()).toEqual([]);
    expect(await machineDirs()).toEqual([]);
  });
});
