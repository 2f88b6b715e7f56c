import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { appendHistory, historyRecordOf, metricOf, readHistory } from './history.js';

describe('history', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'history-'));

  it('turns a finished run into one record with every metric and its unit', () => {
    const record = historyRecordOf({
      run: { finishedAt: '2026-11-30T06:00:00.000Z', host: 'ci-1', accel: 'tcg', commit: '367a118' },
      metrics: [
        { name: 'disk.qcow2.bytes', value: 748167168, unit: 'bytes', scenario: 'default disk', at: '2026-11-30T05:59:00.000Z' },
        { name: 'boot.to_ssh.ms', value: 21034, unit: 'ms', at: '2026-11-30T05:59:01.000Z' },
      ],
    });
    expect(record).toEqual({
      time: '2026-11-30T06:00:00.000Z', commit: '367a118', host: 'ci-1', accel: 'tcg',
      metrics: [
        { name: 'disk.qcow2.bytes', value: 748167168, unit: 'bytes', scenario: 'default disk' },
        { name: 'boot.to_ssh.ms', value: 21034, unit: 'ms' },
      ],
    });
  });

  it('appends one line per run and reads them back oldest first', () => {
    const file = path.join(dir, 'history.jsonl');
    expect(readHistory(file)).toEqual([]);
    appendHistory({ time: 't1', host: 'h', metrics: [{ name: 'a.bytes', value: 1, unit: 'bytes' }] }, file);
    appendHistory({ time: 't2', host: 'h', metrics: [] }, file);
    expect(readHistory(file).map((r) => r.time)).toEqual(['t1', 't2']);
  });

  it('says which line of a history file is broken', () => {
    const file = path.join(dir, 'broken.jsonl');
    writeFileSync(file, '{"time":"t1","host":"h","metrics":[]}\n\n{"time":"t2"}\n');
    expect(() => readHistory(file)).toThrow(/broken\.jsonl:3 is not a history record/);
  });

  it('takes the last value when a run recorded a metric twice', () => {
    const record = { time: 't', host: 'h', metrics: [{ name: 'a.ms', value: 1, unit: 'ms' as const }, { name: 'a.ms', value: 2, unit: 'ms' as const }] };
    expect(metricOf(record, 'a.ms')?.value).toBe(2);
    expect(metricOf(record, 'b.ms')).toBeUndefined();
  });
});
