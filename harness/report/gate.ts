import { LayercheckError } from '../util/errors.js';
import type { Baseline } from './baseline.js';
import { type HistoryRecord, metricOf } from './history.js';
import type { MetricUnit } from './metrics.js';

/** What the gate concluded about one gated metric. */
export type GateCheck =
  | { kind: 'pass' | 'fail'; name: string; unit: MetricUnit; baseline: number; measured: number; tolerance: number; change: number }
  /** The run did not measure it (a scenario was filtered out, or does not exist yet). */
  | { kind: 'not-measured'; name: string; unit: MetricUnit }
  /** The baseline has `value: null`: measured, but nothing to compare with until `npm run baseline`. */
  | { kind: 'no-baseline'; name: string; unit: MetricUnit; measured: number }
  /** Measured in another unit than the baseline's: a mistake somewhere, and the gate fails. */
  | { kind: 'unit-mismatch'; name: string; unit: MetricUnit; measuredUnit: MetricUnit; measured: number };

export interface GateVerdict {
  passed: boolean;
  checks: GateCheck[];
}

/**
 * Compare a run with the baseline: a gated metric fails when measured > baseline × (1 + tolerance).
 * Metrics the run did not measure, or whose baseline is `null`, are skipped (and said so).
 */
export function evaluateGate(record: HistoryRecord, baseline: Baseline): GateVerdict {
  const checks = Object.entries(baseline.metrics).map(([name, entry]): GateCheck => {
    const measured = metricOf(record, name);
    if (!measured) return { kind: 'not-measured', name, unit: entry.unit };
    if (measured.unit !== entry.unit) return { kind: 'unit-mismatch', name, unit: entry.unit, measuredUnit: measured.unit, measured: measured.value };
    if (entry.value === null) return { kind: 'no-baseline', name, unit: entry.unit, measured: measured.value };
    const change = entry.value === 0 ? (measured.value === 0 ? 0 : Number.POSITIVE_INFINITY) : (measured.value - entry.value) / entry.value;
    const limit = entry.value * (1 + entry.tolerance);
    return {
      kind: measured.value > limit ? 'fail' : 'pass',
      name, unit: entry.unit, baseline: entry.value, measured: measured.value, tolerance: entry.tolerance, change,
    };
  });
  return { passed: checks.every((c) => c.kind !== 'fail' && c.kind !== 'unit-mismatch'), checks };
}

/** `52,428,800` */
export function formatNumber(value: number): string {
  return value.toLocaleString('en-US', { maximumFractionDigits: 3 });
}

/** `737,607,680 bytes (737.6 MB)`, `21034 ms`: a metric as a report shows it. */
export function formatMetricValue(value: number, unit: MetricUnit): string {
  if (unit === 'bytes') return `${formatNumber(value)} bytes (${(value / 1e6).toFixed(1)} MB)`;
  return `${formatNumber(value)} ${unit}`;
}

/** `+16.00%`, `-0.50%`, `+∞%` */
export function formatChange(change: number): string {
  if (!Number.isFinite(change)) return '+∞%';
  return `${change >= 0 ? '+' : ''}${(change * 100).toFixed(2)}%`;
}

/**
 * One line per gated metric: name, baseline, measured, change in percent. Failures read
 * `rebase.derived.bytes: baseline 52,428,800 bytes, measured 60,817,408 bytes, +16.00% (tolerance 2%)`.
 */
export function formatCheck(check: GateCheck): string {
  const { name, unit } = check;
  switch (check.kind) {
    case 'pass':
    case 'fail':
      return `${name}: baseline ${formatNumber(check.baseline)} ${unit}, measured ${formatNumber(check.measured)} ${unit}, ${formatChange(check.change)} (tolerance ${formatNumber(check.tolerance * 100)}%)`;
    case 'not-measured':
      return `${name}: not measured in this run, skipped`;
    case 'no-baseline':
      return `${name}: measured ${formatNumber(check.measured)} ${unit}, no baseline value yet (null), skipped; \`npm run baseline\` sets it`;
    case 'unit-mismatch':
      return `${name}: baseline is in ${unit} but the run measured ${formatNumber(check.measured)} ${check.measuredUnit}`;
    default:
      return check satisfies never;
  }
}

/** The gate's report: failures first (the lines a CI log must show), then passes and notes. */
export function formatGate(verdict: GateVerdict, baselineFile = 'reports/baseline.json'): string[] {
  const failed = verdict.checks.filter((c) => c.kind === 'fail' || c.kind === 'unit-mismatch');
  const passed = verdict.checks.filter((c) => c.kind === 'pass');
  const skipped = verdict.checks.filter((c) => c.kind === 'not-measured' || c.kind === 'no-baseline');
  const head = failed.length > 0
    ? `download-size gate FAILED: ${failed.length} of ${verdict.checks.length} gated metrics above ${baselineFile}`
    : `download-size gate passed: ${passed.length} checked, ${skipped.length} skipped (${baselineFile})`;
  return [
    head,
    ...failed.map((c) => `  FAIL ${formatCheck(c)}`),
    ...passed.map((c) => `  ok   ${formatCheck(c)}${c.kind === 'pass' && c.change < -c.tolerance ? '; well below baseline: `npm run baseline` locks the gain in' : ''}`),
    ...skipped.map((c) => `  note ${formatCheck(c)}`),
  ];
}

/** Thrown by `npm run gate` when a gated metric is above its baseline; the message is the gate's report. */
export class GateFailure extends LayercheckError {
  readonly verdict: GateVerdict;
  constructor(verdict: GateVerdict, lines: string[]) {
    super('E_GATE', lines.join('\n'), { checks: verdict.checks });
    this.verdict = verdict;
  }
}
