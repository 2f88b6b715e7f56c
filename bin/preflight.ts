/** Runs before `npm run e2e`: the host tools are there (installed as root), or the run stops with the apt line. */
import { ensureHostTools } from '../harness/fixtures/host-packages.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  await ensureHostTools();
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
