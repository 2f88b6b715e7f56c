/**
 * `npm run gate`: check the latest run of reports/history.jsonl against reports/baseline.json again (the
 * e2e run does this itself at its end). Exit 1 with one line per metric above its baseline.
 */
import { BASELINE_FILE, readBaseline } from '../harness/report/baseline.js';
import { GateFailure, evaluateGate, formatGate } from '../harness/report/gate.js';
import { HISTORY_FILE, readHistory } from '../harness/report/history.js';
import { displayPath } from '../harness/report/paths.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  const latest = readHistory().at(-1);
  if (!latest) throw new LayercheckError('E_NO_HISTORY', `no run in ${displayPath(HISTORY_FILE)}: run \`npm run e2e\` first`);
  const verdict = evaluateGate(latest, readBaseline());
  const lines = formatGate(verdict, displayPath(BASELINE_FILE));
  console.error(`layercheck: run of ${latest.time}${latest.commit ? ` (commit ${latest.commit})` : ''}`);
  if (!verdict.passed) throw new GateFailure(verdict, lines);
  for (const line of lines) console.error(line);
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(error.message);
    process.exit(error instanceof GateFailure ? 1 : 2);
  }
  throw error;
}
