import os from 'node:os';
import path from 'node:path';
import { defineConfig } from 'vitest/config';
import { REPORTS_DIR } from './harness/report/metrics.js';
import { e2eVcpus, e2eWorkers } from './harness/vm/capacity.js';

export default defineConfig({
  test: {
    // Reporters are global in vitest; the Allure one only reports (and only cleans the results of) the e2e project.
    reporters: [
      'default',
      ['./harness/report/allure-reporter.ts', { projects: ['e2e'], resultsDir: path.join(REPORTS_DIR, 'allure-results') }],
    ],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['harness/**/*.test.ts'],
          environment: 'node',
          // The few qemu starts of unit tests take tickets from their own pool, never queueing behind e2e machines.
          env: { LAYERCHECK_CAPACITY_DIR: path.join(os.tmpdir(), 'layercheck-capacity-unit') },
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['scenarios/**/*.e2e.ts'],
          environment: 'node',
          // Scenario files run at once as far as the host has room for their machines (harness/vm/capacity.ts:
          // every machine start also waits for memory and cores); E2E_WORKERS=1 runs one file at a time.
          fileParallelism: true,
          maxWorkers: e2eWorkers(),
          // The host's cores shared among the machines of the files that run at once (E2E_VCPUS overrides).
          env: { E2E_VCPUS: String(e2eVcpus()) },
          testTimeout: 20 * 60_000,
          hookTimeout: 30 * 60_000,
          globalSetup: ['harness/e2e-setup.ts'],
          // allure-vitest's runtime, then ours: harness steps become Allure steps, attachments are on.
          setupFiles: ['allure-vitest/setup', 'harness/report/allure-setup.ts'],
        },
      },
      {
        // After `npm run report`: the HTML report opened in headless Chromium (npm run report:check).
        test: {
          name: 'report',
          include: ['harness/**/*.check.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
