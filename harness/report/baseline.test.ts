import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Baseline, BASELINE_FILE, readBaseline, rebaseline, validateBaseline } from './baseline.js';

const baseline: Baseline = {
  metrics: {
    'rebase.derived.bytes': { value: null, tolerance: 0.02, unit: 'bytes' },
    'disk.qcow2.bytes': { value: 748167168, tolerance: 0.1, unit: 'bytes', note: 'reference disk' },
  },
};

describe('baseline', () => {
  it('the committed reports/baseline.json is valid and gates the download sizes', () => {
    const committed = readBaseline(BASELINE_FILE);
    expect(Object.keys(committed.metrics)).toEqual(expect.arrayContaining(['rebase.derived.bytes', 'upgrade.commit.bytes']));
  });

  it('quotes the bad value of an invalid entry', () => {
    expect(() => validateBaseline({ metrics: { 'a.bytes': { value: -1, tolerance: 0.02, unit: 'bytes' } } })).toThrow(/a\.bytes\.value must be a number >= 0 or null .*got `-1` \(number\)/);
    expect(() => validateBaseline({ metrics: { 'a.bytes': { value: 1, tolerance: '2%', unit: 'bytes' } } })).toThrow(/a\.bytes\.tolerance .* got `2%` \(string\)/);
    expect(() => validateBaseline({ metrics: { 'a.bytes': { value: 1, tolerance: 0, unit: 'MB' } } })).toThrow(/a\.bytes\.unit must be one of/);
    expect(() => validateBaseline({ gated: [] })).toThrow(/`metrics` must be an object/);
  });

  it('says which file it could not read', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'baseline-'));
    const file = path.join(dir, 'baseline.json');
    writeFileSync(file, '{ not json');
    expect(() => readBaseline(file)).toThrow(/cannot read the baseline .*baseline\.json/);
  });

  it('takes every gated metric the run measured and keeps the rest', () => {
    const record = {
      time: '2026-11-30T06:00:00.000Z', host: 'ci-1', commit: 'abc1234', accel: 'kvm',
      metrics: [
        { name: 'rebase.derived.bytes', value: 5_243_904, unit: 'bytes' as const },
        { name: 'boot.to_ssh.ms', value: 9000, unit: 'ms' as const },
      ],
    };
    const { baseline: next, changes } = rebaseline(baseline, record);
    expect(next.metrics['rebase.derived.bytes']).toEqual({ value: 5_243_904, tolerance: 0.02, unit: 'bytes' });
    expect(next.metrics['disk.qcow2.bytes']).toEqual(baseline.metrics['disk.qcow2.bytes']);
    expect(next.metrics['boot.to_ssh.ms']).toBeUndefined();
    expect(next.updatedFrom).toEqual({ time: record.time, commit: 'abc1234', host: 'ci-1', accel: 'kvm' });
    expect(changes).toEqual([
      { name: 'rebase.derived.bytes', before: null, after: 5_243_904, unit: 'bytes', missing: false },
      { name: 'disk.qcow2.bytes', before: 748167168, after: 748167168, unit: 'bytes', missing: true },
    ]);
  });

  it('refuses to rebaseline a metric measured in another unit', () => {
    const record = { time: 't', host: 'h', metrics: [{ name: 'disk.qcow2.bytes', value: 1, unit: 'count' as const }] };
    expect(() => rebaseline(baseline, record)).toThrow(/gated in bytes but the run measured it in count/);
  });
});
