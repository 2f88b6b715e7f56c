/**
 * `npm run e2e [-- --dry-run] [vitest arguments]`: the preflight, then the e2e scenarios under vitest.
 * With `--dry-run` (or E2E_DRY_RUN=1) it prints, per scenario, what a run on the configured target would
 * execute (disk, Ignition config, overlay and qemu command lines, guest commands) and boots nothing.
 * After a run that passed, it prunes the fixture cache (`npm run cache -- prune`), in one line.
 */
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SCENARIO_PLANS } from '../scenarios/plans.js';
import { dryRun } from '../harness/target/dry-run.js';
import { currentTarget } from '../harness/target/index.js';
import { preflight } from '../harness/target/preflight.js';
import { formatPruneSummary, pruneCache } from '../harness/util/cache-prune.js';
import { LayercheckError } from '../harness/util/errors.js';
import { e2eVcpus } from '../harness/vm/capacity.js';

const args = process.argv.slice(2);
const dry = args.includes('--dry-run');
if (dry) process.env.E2E_DRY_RUN = '1';

try {
  if (dry || process.env.E2E_DRY_RUN === '1') {
    process.env.E2E_VCPUS = String(e2eVcpus()); // the machines' -smp, as the e2e project gives it
    const dir = path.join(os.tmpdir(), 'layercheck-dry-run');
    await dryRun(currentTarget(), SCENARIO_PLANS, dir, (line) => process.stdout.write(`${line}\n`));
    process.exit(0);
  }
  await preflight();
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

// vitest gets the terminal's Ctrl-C from the process group itself and tears its machines down; this
// process only waits for it (and passes on a SIGTERM sent to it alone).
process.on('SIGINT', () => undefined);
const vitest = execa('vitest', ['run', '--project', 'e2e', ...args], { stdio: 'inherit', reject: false, preferLocal: true });
process.on('SIGTERM', () => vitest.kill('SIGTERM'));
const result = await vitest;
// Every recipe or harness change makes new cache keys: after a good run, drop what no run has used for a
// day beyond the few most recent per kind (harness/util/cache-plan.ts). It never fails the run.
if (result.exitCode === 0) {
  try {
    console.log(`layercheck: ${formatPruneSummary(await pruneCache())}`);
  } catch (error) {
    console.error(`layercheck: cache prune failed (the run passed): ${error instanceof Error ? error.message : String(error)}`);
  }
}
process.exit(result.exitCode ?? 1);
