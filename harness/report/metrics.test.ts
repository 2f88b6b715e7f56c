import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { finishRun, readRunAttributes, readSpool, recordMetric, recordRunAttribute } from './metrics.js';

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

  it('keeps run attributes beside the metrics and puts them in the run header', () => {
    process.env.LAYERCHECK_METRICS_SPOOL = spool;
    recordRunAttribute('accel', 'kvm');
    recordMetric('image.layers.count', 12, 'count');
    recordRunAttribute('accel', 'kvm');
    expect(readSpool(spool).map((m) => m.name)).toEqual(['image.layers.count']);
    expect(readRunAttributes(spool)).toEqual({ accel: 'kvm' });
    recordRunAttribute('accel', 'tcg');
    expect(readRunAttributes(spool)).toEqual({ accel: 'kvm,tcg' });
    const out = path.join(dir, 'metrics-attr.json');
    const result = finishRun(spool, { commit: 'abc1234' }, out);
    expect(result.run).toMatchObject({ accel: 'kvm,tcg', commit: 'abc1234' });
    expect(result.metrics).toHaveLength(1);
  });

  it('refuses run attribute names that are not one word', () => {
    expect(() => recordRunAttribute('the accel', 'kvm')).toThrow(/one word/);
  });
});
