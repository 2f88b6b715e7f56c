/**
 * `npm run baseline`: rewrite reports/baseline.json from the latest run of reports/history.jsonl. Every
 * gated metric that run measured takes its value; tolerances and units stay; the others keep theirs
 * (`null` = not measured yet stays null). To gate a new metric, add it with `"value": null` first.
 */
import { BASELINE_FILE, readBaseline, rebaseline, writeBaseline } from '../harness/report/baseline.js';
import { formatChange, formatNumber } from '../harness/report/gate.js';
import { HISTORY_FILE, readHistory } from '../harness/report/history.js';
import { displayPath } from '../harness/report/paths.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  const latest = readHistory().at(-1);
  if (!latest) throw new LayercheckError('E_NO_HISTORY', `no run in ${displayPath(HISTORY_FILE)}: run \`npm run e2e\` first`);
  const { baseline, changes } = rebaseline(readBaseline(), latest);
  writeBaseline(baseline);
  console.error(`layercheck: ${displayPath(BASELINE_FILE)} from the run of ${latest.time}${latest.commit ? ` (commit ${latest.commit})` : ''}${latest.accel ? `, ${latest.accel}` : ''}`);
  for (const c of changes) {
    const show = (v: number | null): string => (v === null ? 'null' : `${formatNumber(v)} ${c.unit}`);
    const delta = c.before !== null && c.after !== null && c.before !== 0 ? ` (${formatChange((c.after - c.before) / c.before)})` : '';
    console.error(c.missing ? `  ${c.name}: not measured by that run, kept ${show(c.before)}` : `  ${c.name}: ${show(c.before)} -> ${show(c.after)}${delta}`);
  }
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
