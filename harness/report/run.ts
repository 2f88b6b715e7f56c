import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { type Baseline, BASELINE_FILE, readBaseline } from './baseline.js';
import { type GateVerdict, evaluateGate, formatGate } from './gate.js';
import { writeGateResult } from './gate-result.js';
import { type HistoryRecord, appendHistory, historyRecordOf, readHistory } from './history.js';
import { REPORTS_DIR, type RunMetrics, finishRun } from './metrics.js';
import { displayPath } from './paths.js';
import { type Shard, resultsDirFor } from './shards.js';
import { renderTrendSvg } from './trend.js';

/** Where the e2e run's Allure results go (see vitest.config.ts) and `npm run report` reads them. */
export const ALLURE_RESULTS_DIR = path.join(REPORTS_DIR, 'allure-results');

export interface FinishE2eRunOptions {
  /** The checked-out commit, recorded in history. */
  commit?: string;
  /** @default reports/ (or LAYERCHECK_REPORTS_DIR) */
  reportsDir?: string;
  /** @default reports/baseline.json (or LAYERCHECK_BASELINE) */
  baselineFile?: string;
  /** Where the gate's Allure result goes. @default <reportsDir>/allure-results */
  allureResultsDir?: string;
  /** The vitest shard this run is (`--shard`): its gate result goes beside the shard's Allure results. */
  shard?: Shard;
  /** Where the gate's lines go. @default stderr */
  print?: (line: string) => void;
}

export interface FinishedE2eRun {
  metrics: RunMetrics;
  record: HistoryRecord;
  /** Undefined when the baseline could not be read: the run fails then too. */
  verdict?: GateVerdict;
  /** The gate's report, one line per gated metric after a header. */
  lines: string[];
  /** False when a gated metric is above its baseline, or the baseline is unreadable. */
  passed: boolean;
  /** `reports/trend.svg`, unless the chart could not be rendered. */
  trendFile?: string;
}

/**
 * The end of an e2e run (the global setup's teardown): `metrics.json`, one more line of `history.jsonl`,
 * the gate against the baseline, `trend.svg`, and the gate as an Allure result carrying the trend chart.
 * It does not throw for a failed gate (vitest ignores errors of a teardown); the caller sets the exit code.
 */
export async function finishE2eRun(spool: string, options: FinishE2eRunOptions = {}): Promise<FinishedE2eRun> {
  const start = Date.now();
  const reportsDir = options.reportsDir ?? REPORTS_DIR;
  const baselineFile = options.baselineFile ?? BASELINE_FILE;
  const print = options.print ?? ((line: string) => process.stderr.write(`${line}\n`));
  const historyFile = path.join(reportsDir, 'history.jsonl');

  const metrics = finishRun(spool, options.commit ? { commit: options.commit } : {}, path.join(reportsDir, 'metrics.json'));
  const record = historyRecordOf(metrics);
  appendHistory(record, historyFile);
  const history = readHistory(historyFile);

  let baseline: Baseline | undefined;
  let verdict: GateVerdict | undefined;
  let lines: string[];
  try {
    baseline = readBaseline(baselineFile);
    verdict = evaluateGate(record, baseline);
    lines = formatGate(verdict, displayPath(baselineFile));
  } catch (error) {
    lines = [`download-size gate could not run: ${(error as Error).message}`];
  }

  let trendSvg: string | undefined;
  let trendFile: string | undefined;
  if (baseline) {
    try {
      trendSvg = await renderTrendSvg(history, baseline);
      trendFile = path.join(reportsDir, 'trend.svg');
      writeFileSync(trendFile, trendSvg);
    } catch (error) {
      lines.push(`  note the trend chart could not be rendered: ${(error as Error).message}`);
    }
  }
  writeGateResult(options.allureResultsDir ?? resultsDirFor(path.join(reportsDir, 'allure-results'), options.shard), {
    ...(options.shard ? { shard: options.shard } : {}),
    ...(verdict ? { verdict } : {}), lines, record, history, ...(baseline ? { baseline } : {}), ...(trendSvg ? { trendSvg } : {}), start,
  });
  const wrote = [path.join(reportsDir, 'metrics.json'), historyFile, ...(trendFile ? [trendFile] : [])].map((f) => displayPath(f)).join(', ');
  print(`layercheck: ${metrics.metrics.length} metrics of this run (${history.length} run${history.length === 1 ? '' : 's'} in history) written to ${wrote}`);
  for (const line of lines) print(line);
  return { metrics, record, ...(verdict ? { verdict } : {}), lines, passed: verdict?.passed ?? false, ...(trendFile ? { trendFile } : {}) };
}
