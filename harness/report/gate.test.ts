import { describe, expect, it } from 'vitest';
import type { Baseline } from './baseline.js';
import { GateFailure, evaluateGate, formatChange, formatCheck, formatGate, formatMetricValue } from './gate.js';
import type { HistoryMetric, HistoryRecord } from './history.js';

const baseline: Baseline = {
  metrics: {
    'rebase.derived.bytes': { value: 52_428_800, tolerance: 0.02, unit: 'bytes' },
    'upgrade.commit.bytes': { value: null, tolerance: 0.02, unit: 'bytes' },
    'disk.qcow2.bytes': { value: 748_167_168, tolerance: 0.1, unit: 'bytes' },
  },
};

/** A synthetic history: one record per run, each with the metrics given. */
function history(...runs: Array<Record<string, number>>): HistoryRecord[] {
  return runs.map((metrics, i) => ({
    time: new Date(Date.UTC(2026, 10, 20 + i)).toISOString(),
    commit: `c${i}`,
    host: 'ci',
    accel: 'tcg',
    metrics: Object.entries(metrics).map(([name, value]): HistoryMetric => ({ name, value, unit: 'bytes' })),
  }));
}

describe('gate', () => {
  it('passes a history that stays within tolerance, run after run', () => {
    const runs = history(
      { 'rebase.derived.bytes': 52_428_800, 'disk.qcow2.bytes': 748_167_168 },
      { 'rebase.derived.bytes': 53_000_000, 'disk.qcow2.bytes': 760_000_000 },
      // exactly at the limit still passes: 52,428,800 × 1.02
      { 'rebase.derived.bytes': 53_477_376, 'disk.qcow2.bytes': 700_000_000 },
    );
    for (const run of runs) expect(evaluateGate(run, baseline).passed).toBe(true);
  });

  it('fails the run whose gated metric grows beyond tolerance, with one line per metric', () => {
    const runs = history(
      { 'rebase.derived.bytes': 52_428_800 },
      { 'rebase.derived.bytes': 60_817_408, 'disk.qcow2.bytes': 900_000_000 },
    );
    expect(evaluateGate(runs[0]!, baseline).passed).toBe(true);
    const verdict = evaluateGate(runs[1]!, baseline);
    expect(verdict.passed).toBe(false);
    const lines = formatGate(verdict);
    expect(lines).toEqual([
      'download-size gate FAILED: 2 of 3 gated metrics above reports/baseline.json',
      '  FAIL rebase.derived.bytes: baseline 52,428,800 bytes, measured 60,817,408 bytes, +16.00% (tolerance 2%)',
      '  FAIL disk.qcow2.bytes: baseline 748,167,168 bytes, measured 900,000,000 bytes, +20.29% (tolerance 10%)',
      '  note upgrade.commit.bytes: not measured in this run, skipped',
    ]);
    const error = new GateFailure(verdict, lines);
    expect(error.code).toBe('E_GATE');
    expect(error.message).toContain('FAIL rebase.derived.bytes');
  });

  it('skips, and says so, gated metrics the run did not measure or that have no baseline yet', () => {
    const [run] = history({ 'upgrade.commit.bytes': 1_234_567 });
    const verdict = evaluateGate(run!, baseline);
    expect(verdict.passed).toBe(true);
    expect(verdict.checks.map((c) => c.kind)).toEqual(['not-measured', 'no-baseline', 'not-measured']);
    expect(formatGate(verdict)).toEqual([
      'download-size gate passed: 0 checked, 3 skipped (reports/baseline.json)',
      '  note rebase.derived.bytes: not measured in this run, skipped',
      '  note upgrade.commit.bytes: measured 1,234,567 bytes, no baseline value yet (null), skipped; `npm run baseline` sets it',
      '  note disk.qcow2.bytes: not measured in this run, skipped',
    ]);
  });

  it('fails a gated metric measured in another unit than its baseline', () => {
    const record: HistoryRecord = { time: 't', host: 'h', metrics: [{ name: 'disk.qcow2.bytes', value: 3, unit: 'count' }] };
    const verdict = evaluateGate(record, baseline);
    expect(verdict.passed).toBe(false);
    expect(formatCheck(verdict.checks[2]!)).toBe('disk.qcow2.bytes: baseline is in bytes but the run measured 3 count');
  });

  it('points out a metric well below its baseline', () => {
    const [run] = history({ 'rebase.derived.bytes': 26_214_400 });
    expect(formatGate(evaluateGate(run!, baseline))[1]).toBe(
      '  ok   rebase.derived.bytes: baseline 52,428,800 bytes, measured 26,214,400 bytes, -50.00% (tolerance 2%); well below baseline: `npm run baseline` locks the gain in',
    );
  });

  it('handles a zero baseline', () => {
    const zero: Baseline = { metrics: { 'a.bytes': { value: 0, tolerance: 0.02, unit: 'bytes' } } };
    const record: HistoryRecord = { time: 't', host: 'h', metrics: [{ name: 'a.bytes', value: 10, unit: 'bytes' }] };
    const verdict = evaluateGate(record, zero);
    expect(verdict.passed).toBe(false);
    expect(formatCheck(verdict.checks[0]!)).toContain('+∞%');
    expect(formatChange(0)).toBe('+0.00%');
  });

  it('formats metric values for people', () => {
    expect(formatMetricValue(737_607_680, 'bytes')).toBe('737,607,680 bytes (737.6 MB)');
    expect(formatMetricValue(21034, 'ms')).toBe('21,034 ms');
  });
});
