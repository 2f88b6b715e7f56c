import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dir } from 'tmp-promise';
import { describe, expect, test } from 'vitest';
import { admits, machineSlots, memAvailableMiB, policyFromEnv, reserveCapacity, e2eVcpus, vcpusFromEnv, vcpusPerMachine } from './capacity.js';

const vm = { memoryMiB: 1024, cpus: 2 };
const twoCores = { memAvailableMiB: 23_000, cores: 2 };

describe('admits', () => {
  test('a machine alone always starts, even larger than the host', () => {
    expect(admits({ memoryMiB: 64_000, cpus: 16 }, twoCores, []).ok).toBe(true);
  });
  test('on 2 cores, two 2-vCPU machines run together and a third waits for cores', () => {
    expect(admits(vm, twoCores, [vm]).ok).toBe(true);
    const third = admits(vm, twoCores, [vm, vm]);
    expect(third).toEqual({ ok: false, reason: '2 machines hold 4 of 4 vCPUs; 2 more do not fit' });
  });
  test('memory held by admitted machines counts before their guests touch it', () => {
    const verdict = admits(vm, { memAvailableMiB: 3_000, cores: 64 }, [vm, vm]);
    expect(verdict.ok).toBe(false);
    expect(verdict.reason).toContain('0 MiB free for 1024');
  });
  test('one vCPU per core halves the machines', () => {
    expect(admits(vm, twoCores, [vm], { vcpusPerCore: 1, reserveMiB: 1024 }).ok).toBe(false);
  });
});

describe('machineSlots', () => {
  test('bounded by cores here, by memory on a small host, never below one', () => {
    expect(machineSlots(vm, twoCores)).toBe(2);
    expect(machineSlots(vm, { memAvailableMiB: 3_500, cores: 32 })).toBe(2);
    expect(machineSlots(vm, { memAvailableMiB: 500, cores: 1 })).toBe(1);
  });
});

test('memAvailableMiB reads /proc/meminfo', () => {
  expect(memAvailableMiB('MemTotal:       24684000 kB\nMemFree:        22324000 kB\nMemAvailable:   23946240 kB\n')).toBe(23385);
  expect(() => memAvailableMiB('MemTotal: 1 kB\n')).toThrow(/MemAvailable/);
});

test('E2E_VCPUS_PER_CORE overrides the policy; nonsense is ignored', () => {
  expect(policyFromEnv({ E2E_VCPUS_PER_CORE: '1' }).vcpusPerCore).toBe(1);
  expect(policyFromEnv({ E2E_VCPUS_PER_CORE: 'x' }).vcpusPerCore).toBe(2);
});

test('vCPUs per machine: the cores shared among the files that run at once, from 1 to 2', () => {
  expect(vcpusPerMachine(2, 2)).toBe(1);
  expect(vcpusPerMachine(1, 2)).toBe(2);
  expect(vcpusPerMachine(3, 2)).toBe(1);
  expect(vcpusPerMachine(4, 16)).toBe(2);
  expect(vcpusPerMachine(3, 5)).toBe(1);
  expect(vcpusPerMachine(0, 1)).toBe(1);
});

test('E2E_VCPUS: unset is no opinion, anything but an integer from 1 to 64 is refused by name', () => {
  expect(vcpusFromEnv({})).toBeUndefined();
  expect(vcpusFromEnv({ E2E_VCPUS: '' })).toBeUndefined();
  expect(vcpusFromEnv({ E2E_VCPUS: '3' })).toBe(3);
  for (const bad of ['0', '65', '1.5', 'two']) expect(() => vcpusFromEnv({ E2E_VCPUS: bad })).toThrow(/E2E_VCPUS/);
});

test("an e2e run's vCPUs: E2E_VCPUS if set, else the cores shared among E2E_WORKERS", () => {
  expect(e2eVcpus({ E2E_VCPUS: '3', E2E_WORKERS: '1000' })).toBe(3);
  expect(e2eVcpus({ E2E_WORKERS: '1000' })).toBe(1);
});

describe('reserveCapacity', () => {
  test('tickets of gone processes are dropped; a process holding a machine is never made to wait; release removes the ticket', async () => {
    const temp = await dir({ unsafeCleanup: true });
    try {
      // A dead process's ticket claiming the whole host: it must not block anything.
      await writeFile(path.join(temp.path, `${2 ** 22 + 1}-1.json`), JSON.stringify({ name: 'gone', pid: 2 ** 22 + 1, memoryMiB: 10_000_000, cpus: 1000 }));
      const first = await reserveCapacity('a', { memoryMiB: 10_000_000, cpus: 1000 }, { dir: temp.path, timeout: '5s' });
      const second = await reserveCapacity('b', vm, { dir: temp.path, timeout: '5s' });
      expect((await readdir(temp.path)).filter((f) => f.endsWith('.json'))).toHaveLength(2);
      await first();
      await second();
      expect((await readdir(temp.path)).filter((f) => f.endsWith('.json'))).toEqual([]);
    } finally {
      await temp.cleanup();
    }
  });
});
