import { Status } from 'allure-js-commons';
import { ReporterRuntime, createDefaultWriter, md5 } from 'allure-js-commons/sdk/reporter';
import type { Baseline } from './baseline.js';
import { type GateCheck, type GateVerdict, formatCheck, formatMetricValue } from './gate.js';
import { type HistoryRecord, metricOf } from './history.js';

export const GATE_TEST_NAME = 'download size against the baseline';

export interface GateResultInput {
  /** The gate's verdict; undefined when it could not run (the baseline was unreadable): the result is broken. */
  verdict?: GateVerdict;
  /** The gate's printed report (or the reason it could not run). */
  lines: string[];
  record: HistoryRecord;
  history: readonly HistoryRecord[];
  baseline?: Baseline;
  /** The trend chart, when it rendered. */
  trendSvg?: string;
  start: number;
  /** A shard's gate is its own result (`... (shard 1 of 2)`), so a merged report shows every shard's. */
  shard?: { index: number; count: number };
}

function stepStatus(check: GateCheck): Status {
  switch (check.kind) {
    case 'pass':
      return Status.PASSED;
    case 'fail':
    case 'unit-mismatch':
      return Status.FAILED;
    case 'not-measured':
    case 'no-baseline':
      return Status.SKIPPED;
    default:
      return check satisfies never;
  }
}

/** The history of the gated metrics as CSV (one row per run), which Allure shows as a table. */
export function historyCsv(history: readonly HistoryRecord[], names: readonly string[]): string {
  const header = ['time', 'commit', 'host', 'accel', ...names];
  const rows = history.map((r) => [r.time, r.commit ?? '', r.host, r.accel ?? '', ...names.map((n) => String(metricOf(r, n)?.value ?? ''))]);
  return `${[header, ...rows].map((row) => row.join(',')).join('\n')}\n`;
}

/**
 * Write the gate as one more Allure test result, beside the scenarios': status from the verdict, a step
 * per gated metric, the run's metrics as parameters, and the trend chart and history as attachments.
 * This is how the trend chart reaches the report. Returns the result's uuid.
 */
export function writeGateResult(resultsDir: string, input: GateResultInput): string {
  const runtime = new ReporterRuntime({ writer: createDefaultWriter({ resultsDir }) });
  const { verdict, lines, record, history, baseline, trendSvg, start, shard } = input;
  const suffix = shard ? ` (shard ${shard.index} of ${shard.count})` : '';
  const fullName = `layercheck:regression-gate${shard ? `:shard-${shard.index}-of-${shard.count}` : ''}`;
  const uuid = runtime.startTest({ name: `${GATE_TEST_NAME}${suffix}`, fullName, start });
  const stop = Date.now();
  runtime.updateTest(uuid, (result) => {
    result.historyId = md5(fullName);
    result.testCaseId = md5(fullName);
    result.status = verdict === undefined ? Status.BROKEN : verdict.passed ? Status.PASSED : Status.FAILED;
    result.statusDetails = { message: lines.join('\n') };
    result.description = 'Every gated metric of `reports/baseline.json` against this run: it fails when measured > baseline × (1 + tolerance). '
      + 'The trend chart shows each gated metric over `reports/history.jsonl` with the band the gate accepts.';
    result.titlePath = ['regression gate'];
    result.labels.push({ name: 'parentSuite', value: 'regression gate' }, { name: 'host', value: record.host });
    result.parameters.push(
      ...(record.commit ? [{ name: 'commit', value: record.commit }] : []),
      ...(record.accel ? [{ name: 'accel', value: record.accel }] : []),
      ...record.metrics.map((m) => ({ name: m.name, value: formatMetricValue(m.value, m.unit) })),
    );
  });
  for (const check of verdict?.checks ?? []) {
    const step = runtime.startStep(uuid, undefined, { name: formatCheck(check), start: stop });
    if (!step) continue;
    runtime.updateStep(step, (s) => {
      s.status = stepStatus(check);
    });
    runtime.stopStep(step, { stop });
  }
  if (trendSvg) runtime.writeAttachment(uuid, undefined, 'trend of gated metrics', Buffer.from(trendSvg), { contentType: 'image/svg+xml' });
  if (baseline) {
    runtime.writeAttachment(uuid, undefined, 'history of gated metrics', Buffer.from(historyCsv(history, Object.keys(baseline.metrics))), { contentType: 'text/csv' });
    runtime.writeAttachment(uuid, undefined, 'baseline.json', Buffer.from(JSON.stringify(baseline, null, 2)), { contentType: 'application/json' });
  }
  runtime.writeAttachment(uuid, undefined, 'run record', Buffer.from(JSON.stringify(record, null, 2)), { contentType: 'application/json' });
  runtime.stopTest(uuid, { stop });
  runtime.writeTest(uuid);
  return uuid;
}
