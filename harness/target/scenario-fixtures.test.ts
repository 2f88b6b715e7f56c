import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect } from 'vitest';

// The run's target is read from the environment once per process (a test file is one here): set it first.
const cache = await mkdtemp(path.join(os.tmpdir(), 'layercheck-fixtures-test-'));
const saved = { ...process.env };
Object.assign(process.env, { E2E_TARGET: 'rpm-ostree', E2E_DISK: '/srv/fake/fcos.qcow2', E2E_DRY_RUN: '1', E2E_CACHE_DIR: cache });
const { scenario } = await import('../testing.js');

describe('scenario fixtures on an rpm-ostree target with a finished disk', () => {
  afterAll(async () => {
    for (const key of ['E2E_TARGET', 'E2E_DISK', 'E2E_DRY_RUN', 'E2E_CACHE_DIR']) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
    await rm(cache, { recursive: true, force: true });
  });

  scenario('the default disk is the finished one, provisioned by Ignition for core', async ({ target, disk }) => {
    expect(target.config.kind).toBe('rpm-ostree');
    const base = await disk();
    expect(base.qcow2).toBe('/srv/fake/fcos.qcow2');
    expect(base.provisioning?.sshUser).toBe('core');
    expect(base.provisioning?.fwCfg[0]?.name).toBe('opt/com.coreos/config');
  });

  // A skip ends the test (vitest runs no onTestFinished hook then): reaching the throw means it did not skip.
  scenario('a disk variant is skipped with the target\'s reason', async ({ disk }) => {
    await disk({ layerRefs: 'drop' });
    throw new Error('not reached: the variant should have skipped the test');
  });

  scenario('reference content is skipped with the target\'s reason', async ({ needs }) => {
    needs('reference-content');
    throw new Error('not reached: the test should have been skipped');
  });
});
