import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SetupError } from '../util/errors.js';
import { setLogSink } from '../util/log.js';
import { accelCacheKey } from './accel-decision.js';
import { accelFor, hostFacts, resolveAccel } from './accel.js';

// None of these reach a probe boot: they stop at the override, the device check, or the cache.
describe('resolveAccel', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let lines: string[];
  let previousSink: (line: string) => void;

  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
    lines = [];
    previousSink = setLogSink((line) => lines.push(line));
  });
  afterEach(async () => {
    setLogSink(previousSink);
    await temp.cleanup();
  });

  test('E2E_ACCEL wins, and the choice is logged once', async () => {
    const options = { cacheDir: join(temp.path, 'a'), probeKernel: '/nonexistent', env: { E2E_ACCEL: 'tcg' } };
    expect(await resolveAccel(options)).toEqual({ accel: 'tcg', reason: 'E2E_ACCEL=tcg' });
    await resolveAccel(options);
    expect(lines).toEqual(['host: accelerator: tcg (E2E_ACCEL=tcg)']);
  });

  test('an invalid E2E_ACCEL is a setup error', async () => {
    await expect(resolveAccel({ cacheDir: join(temp.path, 'b'), probeKernel: '/k', env: { E2E_ACCEL: 'fast' } })).rejects.toThrow(SetupError);
  });

  test('a KVM device that does not open means TCG, without probing', async () => {
    const verdict = await resolveAccel({ cacheDir: join(temp.path, 'c'), probeKernel: '/nonexistent', kvmDevice: join(temp.path, 'no-kvm'), env: {} });
    expect(verdict.accel).toBe('tcg');
    expect(verdict.reason).toMatch(/no-kvm cannot be opened read-write \(ENOENT\)/);
  });

  test('a cached verdict for this host is used instead of probing', async () => {
    const cacheDir = join(temp.path, 'd');
    const kvmDevice = join(temp.path, 'fake-kvm');
    await writeFile(kvmDevice, '');
    await mkdir(cacheDir);
    const key = accelCacheKey(await hostFacts());
    const cache = { [key]: { accel: 'kvm', reason: 'a KVM probe boot reached: x', probedAt: '2026-01-01T00:00:00.000Z' } };
    await writeFile(join(cacheDir, 'accel.json'), JSON.stringify(cache));
    const verdict = await resolveAccel({ cacheDir, probeKernel: '/nonexistent', kvmDevice, env: {} });
    expect(verdict.accel).toBe('kvm');
    expect(verdict.reason).toContain('(probed 2026-01-01T00:00:00.000Z, cached in');
    expect(JSON.parse(await readFile(join(cacheDir, 'accel.json'), 'utf8'))).toEqual(cache);
  });
});

describe('accelFor (a machine\'s accelerator)', () => {
  const direct = { kind: 'direct', kernel: '/k/vmlinuz', cmdline: '' } as const;
  const firmware = { kind: 'firmware', firmware: 'bios' } as const;

  test('an explicit accelerator is used as given', async () => {
    expect(await accelFor('kvm', firmware)).toBe('kvm');
    expect(await accelFor('tcg', direct)).toBe('tcg');
  });

  test('a firmware boot has no kernel to probe with unless one is named', async () => {
    await expect(accelFor({ cacheDir: '/nonexistent' }, firmware)).rejects.toThrow(/needs accel\.probeKernel/);
  });
});
