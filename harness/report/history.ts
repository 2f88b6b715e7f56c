import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { LayercheckError } from '../util/errors.js';
import { type MetricUnit, REPORTS_DIR, type RunMetrics } from './metrics.js';

/** `reports/history.jsonl`: one line per e2e run, oldest first. */
export const HISTORY_FILE = path.join(REPORTS_DIR, 'history.jsonl');

/** One metric of a run, as history keeps it. */
export interface HistoryMetric {
  name: string;
  value: number;
  unit: MetricUnit;
  scenario?: string;
}

/** One e2e run: when, which commit, on which host and accelerator, and every metric it measured. */
export interface HistoryRecord {
  /** ISO 8601 time the run finished. */
  time: string;
  /** `git rev-parse --short HEAD`, when the checkout is a git repository. */
  commit?: string;
  host: string;
  /** `kvm` or `tcg` (`kvm,tcg` if machines of the run differed); absent when no machine booted. */
  accel?: string;
  metrics: HistoryMetric[];
}

/** The history line of a finished run. */
export function historyRecordOf(run: RunMetrics): HistoryRecord {
  const { finishedAt, host, commit, accel } = run.run;
  return {
    time: finishedAt,
    ...(commit ? { commit } : {}),
    host,
    ...(accel ? { accel } : {}),
    metrics: run.metrics.map(({ name, value, unit, scenario }) => ({ name, value, unit, ...(scenario ? { scenario } : {}) })),
  };
}

export function appendHistory(record: HistoryRecord, file = HISTORY_FILE): void {
  mkdirSync(path.dirname(file), { recursive: true });
  appendFileSync(file, `${JSON.stringify(record)}\n`);
}

/** Every record of a history file, oldest first; a missing file is an empty history. */
export function readHistory(file = HISTORY_FILE): HistoryRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, number }) => {
      try {
        const record = JSON.parse(line) as HistoryRecord;
        if (typeof record.time !== 'string' || !Array.isArray(record.metrics)) throw new Error('no `time` or `metrics`');
        return record;
      } catch (error) {
        throw new LayercheckError('E_BAD_HISTORY', `${file}:${number} is not a history record: ${(error as Error).message}`, { file, line: number });
      }
    });
}

/** The value of a metric in a record: the last one recorded under that name, if any. */
export function metricOf(record: HistoryRecord, name: string): HistoryMetric | undefined {
  return record.metrics.findLast((m) => m.name === name);
}
