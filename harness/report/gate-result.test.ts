import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAllureResults } from './allure-results.js';
import type { Baseline } from './baseline.js';
import { evaluateGate, formatGate } from './gate.js';
import { GATE_TEST_NAME, historyCsv, writeGateResult } from './gate-result.js';
import type { HistoryRecord } from './history.js';

const baseline: Baseline = { metrics: { 'rebase.derived.bytes': { value: 100, tolerance: 0.02, unit: 'bytes' } } };
const record: HistoryRecord = { time: '2026-11-30T06:00:00.000Z', commit: 'abc1234', host: 'ci', accel: 'tcg', metrics: [{ name: 'rebase.derived.bytes', value: 120, unit: 'bytes' }] };

describe('gate result', () => {
  it('writes the gate as a failed Allure test with a step per metric and the trend chart attached', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gate-result-'));
    const verdict = evaluateGate(record, baseline);
    const lines = formatGate(verdict);
    writeGateResult(dir, { verdict, lines, record, history: [record], baseline, trendSvg: '<svg xmlns="http://www.w3.org/2000/svg"/>', start: Date.now() });
    const [result] = readAllureResults(dir);
    expect(result).toEqual({ name: GATE_TEST_NAME, status: 'failed', attachments: ['trend of gated metrics', 'history of gated metrics', 'baseline.json', 'run record'] });
    const raw = JSON.parse(readFileSync(path.join(dir, readdirSync(dir).find((f) => f.endsWith('-result.json'))!), 'utf8'));
    expect(raw.statusDetails.message).toContain('FAIL rebase.derived.bytes: baseline 100 bytes, measured 120 bytes, +20.00% (tolerance 2%)');
    expect(raw.steps.map((s: { name: string; status: string }) => s.status)).toEqual(['failed']);
    expect(raw.parameters).toContainEqual({ name: 'accel', value: 'tcg' });
    expect(readdirSync(dir).filter((f) => f.endsWith('.svg'))).toHaveLength(1);
  });

  it('is broken when the gate could not run', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'gate-result-'));
    writeGateResult(dir, { lines: ['download-size gate could not run: no baseline'], record, history: [record], start: Date.now() });
    expect(readAllureResults(dir)[0]).toMatchObject({ status: 'broken', attachments: ['run record'] });
  });

  it('tabulates the history of the gated metrics', () => {
    expect(historyCsv([record, { time: 't2', host: 'ci', metrics: [] }], ['rebase.derived.bytes'])).toBe(
      'time,commit,host,accel,rebase.derived.bytes\n2026-11-30T06:00:00.000Z,abc1234,ci,tcg,120\nt2,,ci,,\n',
    );
  });
});
