import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayercheckError, describeValue } from '../util/errors.js';
import { type HistoryRecord, metricOf } from './history.js';
import type { MetricUnit } from './metrics.js';

/** `reports/baseline.json`, committed (the only file under reports/ in git); `LAYERCHECK_BASELINE` points elsewhere. */
export const BASELINE_FILE = process.env.LAYERCHECK_BASELINE ?? fileURLToPath(new URL('../../reports/baseline.json', import.meta.url));

/** The expected value of one gated metric. */
export interface BaselineEntry {
  /** The expected value; `null` = not measured yet: the gate skips the metric until `npm run baseline` fills it. */
  value: number | null;
  /** Relative tolerance: the gate fails when measured > value × (1 + tolerance). 0.02 = 2 %. */
  tolerance: number;
  unit: MetricUnit;
  /** Why this metric is gated, or where its value came from. */
  note?: string;
}

export interface Baseline {
  /** What this file is, for whoever opens it. */
  description?: string;
  /** The history record the values were last taken from. */
  updatedFrom?: { time: string; commit?: string; host: string; accel?: string };
  /** Gated metrics by name. */
  metrics: Record<string, BaselineEntry>;
}

const UNITS: readonly MetricUnit[] = ['bytes', 'ms', 'count', 'ratio'];

/** Read and validate a baseline file; every problem names the metric and quotes the bad value. */
export function readBaseline(file = BASELINE_FILE): Baseline {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new LayercheckError('E_BAD_BASELINE', `cannot read the baseline ${file}: ${(error as Error).message}`, { file });
  }
  return validateBaseline(parsed, file);
}

export function validateBaseline(parsed: unknown, where = 'baseline'): Baseline {
  const bad = (message: string): LayercheckError => new LayercheckError('E_BAD_BASELINE', `${where}: ${message}`);
  if (typeof parsed !== 'object' || parsed === null) throw bad(`must be a JSON object, got ${describeValue(parsed)}`);
  const metrics = (parsed as { metrics?: unknown }).metrics;
  if (typeof metrics !== 'object' || metrics === null || Array.isArray(metrics)) throw bad(`\`metrics\` must be an object of gated metrics, got ${describeValue(metrics)}`);
  for (const [name, entry] of Object.entries(metrics as Record<string, unknown>)) {
    if (typeof entry !== 'object' || entry === null) throw bad(`${name} must be an object, got ${describeValue(entry)}`);
    const { value, tolerance, unit } = entry as Record<string, unknown>;
    if (value !== null && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw bad(`${name}.value must be a number >= 0 or null (not measured yet), got ${describeValue(value)}`);
    }
    if (typeof tolerance !== 'number' || !Number.isFinite(tolerance) || tolerance < 0) {
      throw bad(`${name}.tolerance must be a relative tolerance >= 0 such as 0.02, got ${describeValue(tolerance)}`);
    }
    if (!UNITS.includes(unit as MetricUnit)) throw bad(`${name}.unit must be one of ${UNITS.join(', ')}, got ${describeValue(unit)}`);
  }
  return parsed as Baseline;
}

export function writeBaseline(baseline: Baseline, file = BASELINE_FILE): void {
  writeFileSync(file, `${JSON.stringify(baseline, null, 2)}\n`);
}

/** What `rebaseline` changed, metric by metric. */
export interface BaselineChange {
  name: string;
  before: number | null;
  /** The new value; unchanged (and `missing`) when the record did not measure the metric. */
  after: number | null;
  unit: MetricUnit;
  missing: boolean;
}

/**
 * A new baseline whose gated metrics take their values from a run (`npm run baseline`). Tolerances, units
 * and notes stay; metrics the run did not measure keep their old value (null stays null).
 */
export function rebaseline(baseline: Baseline, record: HistoryRecord): { baseline: Baseline; changes: BaselineChange[] } {
  const changes: BaselineChange[] = [];
  const metrics: Record<string, BaselineEntry> = {};
  for (const [name, entry] of Object.entries(baseline.metrics)) {
    const measured = metricOf(record, name);
    if (measured && measured.unit !== entry.unit) {
      throw new LayercheckError('E_BAD_BASELINE', `${name} is gated in ${entry.unit} but the run measured it in ${measured.unit}; fix the unit in ${path.basename(BASELINE_FILE)} first`);
    }
    const after = measured ? measured.value : entry.value;
    metrics[name] = { ...entry, value: after };
    changes.push({ name, before: entry.value, after, unit: entry.unit, missing: !measured });
  }
  const { time, commit, host, accel } = record;
  return {
    baseline: { ...baseline, updatedFrom: { time, ...(commit ? { commit } : {}), host, ...(accel ? { accel } : {}) }, metrics },
    changes,
  };
}
