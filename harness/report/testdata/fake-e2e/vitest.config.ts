/**
 * A tiny e2e-like vitest project with the same report wiring as the real e2e project (Allure reporter and
 * setup file, a global setup that finishes the run and gates it), and no VM: run.test.ts drives it to
 * check the gate's exit code and message. Reports go to LAYERCHECK_REPORTS_DIR, the baseline is
 * LAYERCHECK_BASELINE. To look at a report without booting anything:
 *   export LAYERCHECK_REPORTS_DIR=/tmp/demo LAYERCHECK_BASELINE=/tmp/demo/baseline.json   # write a baseline there
 *   FAKE_E2E_FAIL=1 npx vitest run --config harness/report/testdata/fake-e2e/vitest.config.ts
 *   npm run report && npm run report:check     # /tmp/demo/report-screenshot.png
 */
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { REPORTS_DIR } from '../../metrics.js';

export default defineConfig({
  test: {
    reporters: ['default', [path.join(import.meta.dirname, '../../allure-reporter.ts'), { projects: ['e2e'], resultsDir: path.join(REPORTS_DIR, 'allure-results') }]],
    projects: [
      {
        test: {
          name: 'e2e',
          root: import.meta.dirname,
          include: ['*.e2e.ts'],
          environment: 'node',
          globalSetup: ['./global-setup.ts'],
          setupFiles: ['allure-vitest/setup', '../../allure-setup.ts'],
        },
      },
    ],
  },
});
