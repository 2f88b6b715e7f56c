/** Runs before the e2e scenarios: stops with one message saying what to set or install, or passes. */
import { preflight } from '../harness/target/preflight.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  await preflight();
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}
