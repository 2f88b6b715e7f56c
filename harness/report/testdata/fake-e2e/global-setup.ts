import type { TestProject } from 'vitest/node';
import { startRun } from '../../metrics.js';
import { finishE2eRun } from '../../run.js';
import { shardOf } from '../../shards.js';

/** The real e2e global setup less the host and fixtures: a spool, then the run's end and its gate. */
export default function setup(project: TestProject): () => Promise<void> {
  const spool = startRun();
  return async () => {
    const shard = shardOf(project.vitest.config);
    const run = await finishE2eRun(spool, { commit: process.env.FAKE_E2E_COMMIT ?? 'fake000', ...(shard ? { shard } : {}) });
    if (!run.passed) process.exitCode = 1;
  };
}
