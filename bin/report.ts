/**
 * `npm run report`: turn the e2e run's Allure results (reports/allure-results) into the HTML report
 * reports/allure-report/index.html, one self-contained file. `npm run report:check` then opens it in
 * headless Chromium and keeps a screenshot. Shards' results (reports/allure-results/shard-i-of-n) merge
 * into the one report; `npm run report -- DIR...` merges more results directories (e.g. CI artifacts).
 */
import { generateAllureReport } from '../harness/report/allure-report.js';
import { displayPath } from '../harness/report/paths.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  const extraResultsDirs = process.argv.slice(2);
  const index = await generateAllureReport({ extraResultsDirs });
  console.error(`layercheck: report written to ${displayPath(index)}`);
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
