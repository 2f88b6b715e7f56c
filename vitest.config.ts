import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['harness/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['scenarios/**/*.e2e.ts'],
          environment: 'node',
          // A scenario boots VMs under TCG on 2 cores: one file at a time, long timeouts.
          fileParallelism: false,
          testTimeout: 20 * 60_000,
          hookTimeout: 30 * 60_000,
          globalSetup: ['harness/e2e-setup.ts'],
        },
      },
    ],
  },
});
