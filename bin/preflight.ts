/**
 * Runs before `npm run e2e`: the target configuration is valid and the host tools it needs are there
 * (installed as root), or the run stops with one message saying what to set or install.
 */
import { ensureHostTools } from '../harness/fixtures/host-packages.js';
import { currentTarget } from '../harness/target/index.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  const target = currentTarget();
  const { tools, files } = target.hostRequirements();
  await ensureHostTools(tools, undefined, { files, needsRoot: target.config.kind === 'reference' });
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
