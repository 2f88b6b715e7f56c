import type { TestProject } from 'vitest/node';
import { execaSync } from 'execa';
import { referenceImage } from './fixtures/index.js';
import { currentTarget } from './target/index.js';
import { preflight } from './target/preflight.js';
import { startRun } from './report/metrics.js';
import { finishE2eRun } from './report/run.js';
import { shardOf } from './report/shards.js';
import { watchAncestors } from './util/ancestors.js';
import { log } from './util/log.js';

/**
 * vitest global setup of the e2e project: check the host for the run's target, build the shared fixtures with progress on
 * the terminal (scenarios then find them cached), and at the end collect the run's metrics, append them
 * to reports/history.jsonl, draw reports/trend.svg and gate them against reports/baseline.json.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Whoever started the run went away (e.g. `kill -INT <npm pid>`, which npm does not pass on): stop as
  // on Ctrl-C, so vitest tears its workers down and they kill their VMs and servers.
  const unwatch = watchAncestors((pid) => {
    log('host', `the process that started this run (pid ${pid}) is gone: stopping`);
    process.kill(process.pid, 'SIGINT');
  });
  const target = currentTarget();
  await preflight();
  log('host', `target: ${target.description}`);
  const spool = startRun();
  if (target.config.kind === 'reference') {
    const { info, hit } = await referenceImage();
    log('host', `reference image ${info.manifestDigest} (${info.layers.length} layers)${hit ? ', cached' : ''}`);
  }
  return async () => {
    unwatch();
    const commit = execaSync('git', ['rev-parse', '--short', 'HEAD'], { reject: false }).stdout || undefined;
    const shard = shardOf(project.vitest.config);
    const run = await finishE2eRun(spool, { ...(commit ? { commit } : {}), ...(shard ? { shard } : {}) });
    // vitest ignores errors thrown by a teardown (it logs them and exits 0): a failed gate sets the exit code.
    if (!run.passed) process.exitCode = 1;
  };
}
