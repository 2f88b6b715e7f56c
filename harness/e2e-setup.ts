import { execaSync } from 'execa';
import { ensureHostTools, referenceImage } from './fixtures/index.js';
import { finishRun, startRun } from './report/metrics.js';
import { log } from './util/log.js';

/**
 * vitest global setup of the e2e project: check the host, build the shared fixtures with progress on
 * the terminal (scenarios then find them cached), and collect the run's metrics at the end.
 */
export default async function setup(): Promise<() => Promise<void>> {
  await ensureHostTools();
  const spool = startRun();
  const { info, hit } = await referenceImage();
  log('host', `reference image ${info.manifestDigest} (${info.layers.length} layers)${hit ? ', cached' : ''}`);
  return async () => {
    const commit = execaSync('git', ['rev-parse', '--short', 'HEAD'], { reject: false }).stdout || undefined;
    const result = finishRun(spool, commit ? { commit } : {});
    log('host', `wrote ${result.metrics.length} metrics to reports/metrics.json`);
  };
}
