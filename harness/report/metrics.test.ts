import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { finishRun, readSpool, recordMetric } from './metrics.js';

describe('metrics', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'metrics-'));
  const spool = path.join(dir, 'spool.jsonl');
  const saved = process.env.LAYERCHECK_METRICS_SPOOL;
  process.env.LAYERCHECK_METRICS_SPOOL = spool;
  afterEach(() => {
    process.env.LAYERCHECK_METRICS_SPOOL = saved;
  });

  it('appends each metric and writes them all at the end of the run', () => {
    recordMetric('boot.to_ssh.ms', 21034, 'ms', 'create-disk');
    recordMetric('disk.qcow2.bytes', 737607680, 'bytes');
    expect(readSpool(spool).map((m) => m.name)).toEqual(['boot.to_ssh.ms', 'disk.qcow2.bytes']);
    const out = path.join(dir, 'metrics.json');
    finishRun(spool, { accel: 'tcg' }, out);
    const written = JSON.parse(readFileSync(out, 'utf8'));
    expect(written.run.accel).toBe('tcg');
    expect(written.metrics).toHaveLength(2);
    expect(written.metrics[0]).toMatchObject({ name: 'boot.to_ssh.ms', value: 21034, unit: 'ms', scenario: 'create-disk' });
    expect(readSpool(spool)).toEqual([]);
  });

  it('refuses names that are not dotted lower-case and values that are not finite', () => {
    expect(() => recordMetric('BootTime', 1, 'ms')).toThrow(/dotted lower-case/);
    expect(() => recordMetric('boot.to_ssh.ms', Number.NaN, 'ms')).toThrow(/finite value, got `NaN`/);
  });
});
