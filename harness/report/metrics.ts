import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayercheckError, describeValue } from '../util/errors.js';

export const REPORTS_DIR = fileURLToPath(new URL('../../reports', import.meta.url));

/** Units a metric may carry; the name says what is measured, the unit how. */
export type MetricUnit = 'bytes' | 'ms' | 'count' | 'ratio';

export interface Metric {
  name: string;
  value: number;
  unit: MetricUnit;
  scenario?: string;
  at: string;
}

export interface RunMetrics {
  run: { finishedAt: string; host: string; accel?: string; commit?: string };
  metrics: Metric[];
}

const SPOOL_ENV = 'LAYERCHECK_METRICS_SPOOL';
const NAME = /^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$/;

/** Where this run's metrics collect; the e2e global setup points every worker at one file. */
export function spoolFile(): string {
  return process.env[SPOOL_ENV] ?? path.join(REPORTS_DIR, '.metrics-spool.jsonl');
}

/** Start a run: an empty spool that every worker process (which inherits the environment) appends to. */
export function startRun(): string {
  const file = path.join(REPORTS_DIR, `.metrics-spool-${process.pid}.jsonl`);
  mkdirSync(REPORTS_DIR, { recursive: true });
  rmSync(file, { force: true });
  process.env[SPOOL_ENV] = file;
  return file;
}

/**
 * The one call a scenario makes to record a number: a dotted lower-case name (`rebase.derived.bytes`),
 * a finite value and its unit. Appended at once, so a later failure in the run does not lose it.
 */
export function recordMetric(name: string, value: number, unit: MetricUnit, scenario?: string): Metric {
  if (!NAME.test(name)) throw new LayercheckError('E_BAD_METRIC', `a metric name is dotted lower-case words like \`boot.to_ssh.ms\`, got ${describeValue(name)}`);
  if (!Number.isFinite(value)) throw new LayercheckError('E_BAD_METRIC', `metric ${name} needs a finite value, got ${describeValue(value)}`);
  const metric: Metric = { name, value, unit, ...(scenario ? { scenario } : {}), at: new Date().toISOString() };
  const file = spoolFile();
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(metric)}\n`);
  return metric;
}

export function readSpool(file: string): Metric[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Metric);
}

/** End a run: write every metric it recorded to `reports/metrics.json` and drop the spool. */
export function finishRun(file: string, run: Omit<RunMetrics['run'], 'finishedAt' | 'host'> = {}, out = path.join(REPORTS_DIR, 'metrics.json')): RunMetrics {
  const result: RunMetrics = { run: { finishedAt: new Date().toISOString(), host: os.hostname(), ...run }, metrics: readSpool(file) };
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  rmSync(file, { force: true });
  return result;
}
