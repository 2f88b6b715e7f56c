import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LayercheckError, describeValue } from '../util/errors.js';

/** Where reports go: `reports/` of the checkout, or `LAYERCHECK_REPORTS_DIR` (tests of the report pipeline). */
export const REPORTS_DIR = process.env.LAYERCHECK_REPORTS_DIR ?? fileURLToPath(new URL('../../reports', import.meta.url));

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
  run: { finishedAt: string; host: string; accel?: string; commit?: string; [attribute: string]: string | undefined };
  metrics: Metric[];
}

/** A fact about the whole run (`accel: tcg`), recorded by whoever learns it; the last value of a name wins. */
export interface RunAttribute {
  attribute: string;
  value: string;
  at: string;
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

/**
 * Record a fact about the run, such as the accelerator the machines used (`recordRunAttribute('accel', 'kvm')`).
 * It lands in the run header of `reports/metrics.json` and of the history record. Same spool as the metrics.
 */
export function recordRunAttribute(attribute: string, value: string): RunAttribute {
  if (!/^[a-z][a-zA-Z0-9_]*$/.test(attribute)) throw new LayercheckError('E_BAD_METRIC', `a run attribute name is one word like \`accel\`, got ${describeValue(attribute)}`);
  const entry: RunAttribute = { attribute, value, at: new Date().toISOString() };
  const file = spoolFile();
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(entry)}\n`);
  return entry;
}

function readSpoolLines(file: string): Array<Metric | RunAttribute> {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as Metric | RunAttribute);
}

/** The metrics of a spool, in the order recorded. */
export function readSpool(file: string): Metric[] {
  return readSpoolLines(file).filter((entry): entry is Metric => !('attribute' in entry));
}

/** The run attributes of a spool; when one was recorded several times with different values, they are joined with `,`. */
export function readRunAttributes(file: string): Record<string, string> {
  const seen = new Map<string, string[]>();
  for (const entry of readSpoolLines(file)) {
    if (!('attribute' in entry)) continue;
    const values = seen.get(entry.attribute) ?? [];
    if (!values.includes(entry.value)) values.push(entry.value);
    seen.set(entry.attribute, values);
  }
  return Object.fromEntries([...seen].map(([name, values]) => [name, values.join(',')]));
}

/** End a run: write every metric it recorded to `reports/metrics.json` and drop the spool. */
export function finishRun(file: string, run: Omit<RunMetrics['run'], 'finishedAt' | 'host'> = {}, out = path.join(REPORTS_DIR, 'metrics.json')): RunMetrics {
  const result: RunMetrics = {
    run: { finishedAt: new Date().toISOString(), host: os.hostname(), ...readRunAttributes(file), ...run },
    metrics: readSpool(file),
  };
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  rmSync(file, { force: true });
  return result;
}
