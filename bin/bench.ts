/**
 * `npm run bench`: the product's speed, measured. Prints cold and warm fixture build time, the
 * boot-to-SSH median of the reference disk, and the saved-state restore-to-SSH median against its 2 s
 * target, and writes them to reports/bench.json.
 *   --boots N     boots to take the median of (default 5)
 *   --skip-cold   do not rebuild the fixtures in an empty cache
 *   --only-saved-state   measure only the saved-state restores
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { execa } from 'execa';
import { ensureHostTools, referenceDisk } from '../harness/fixtures/index.js';
import { startMachine } from '../harness/machines.js';
import { REPORTS_DIR } from '../harness/report/metrics.js';
import { cacheRoot, removeTree } from '../harness/util/cache.js';
import { formatMs } from '../harness/util/errors.js';
import { type Accel, resolveAccel } from '../harness/vm/index.js';

const { values } = parseArgs({ options: { boots: { type: 'string', default: '5' }, 'skip-cold': { type: 'boolean', default: false }, 'only-saved-state': { type: 'boolean', default: false } } });
const onlySavedState = values['only-saved-state'];
const boots = Number(values.boots);
await ensureHostTools();
const results: Record<string, unknown> = {};

async function timeFixtures(): Promise<number> {
  const started = performance.now();
  await referenceDisk();
  return performance.now() - started;
}

if (!values['skip-cold'] && !onlySavedState) {
  // An empty cache, except the downloaded .debs: the mirror's speed is not ours to measure.
  const root = cacheRoot();
  const cold = path.join(root, `bench-cold-${process.pid}`);
  mkdirSync(cold, { recursive: true });
  symlinkSync(path.join(root, 'apt-archives'), path.join(cold, 'apt-archives'));
  process.env.E2E_CACHE_DIR = cold;
  try {
    results.fixturesColdMs = Math.round(await timeFixtures());
  } finally {
    process.env.E2E_CACHE_DIR = root;
    await removeTree(cold);
  }
  console.log(`fixtures, cold (empty cache, .debs reused): ${formatMs(results.fixturesColdMs as number)}`);
}
if (!onlySavedState) {
  await timeFixtures();
  // Warm as a user meets it: a fresh process that finds every fixture cached (hashing its inputs included).
  const warmStarted = performance.now();
  await execa('npx', ['tsx', 'bin/fixtures.ts'], { cwd: fileURLToPath(new URL('..', import.meta.url)) });
  results.fixturesWarmMs = Math.round(performance.now() - warmStarted);
  console.log(`fixtures, warm (fresh process, everything cached): ${formatMs(results.fixturesWarmMs as number)}`);
}

const { disk } = await referenceDisk();
const found = await resolveAccel({ cacheDir: cacheRoot(), probeKernel: disk.boot.kind === 'direct' ? disk.boot.kernel : '' });
const accels: Accel[] = onlySavedState ? [] : found.accel === 'kvm' ? ['kvm', 'tcg'] : ['tcg'];
for (const accel of accels) {
  const times: number[] = [];
  for (let i = 0; i < boots; i++) {
    const machine = await startMachine(disk, `bench-${accel}-${i}`, { accel });
    times.push(machine.bootToSshMs ?? Number.NaN);
    await machine.dispose();
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  results[`bootToSsh.${accel}`] = { medianMs: Math.round(median), runsMs: times.map(Math.round) };
  console.log(`boot-to-SSH, ${accel} (${found.reason}): median ${formatMs(median)} of ${boots} [${times.map((t) => formatMs(t)).join(', ')}]`);
}
// Restores of the saved state of the default disk, booted (made first if missing: not timed).
const SAVED_STATE_TARGET_MS = 2_000;
const restoreTimes: number[] = [];
await (await startMachine(disk, 'bench-saved-state-warmup', { from: 'saved-state' })).dispose();
for (let i = 0; i < boots; i++) {
  const machine = await startMachine(disk, `bench-saved-state-${i}`, { from: 'saved-state' });
  restoreTimes.push(machine.bootToSshMs ?? Number.NaN);
  await machine.dispose();
}
const restoreMedian = [...restoreTimes].sort((a, b) => a - b)[Math.floor(restoreTimes.length / 2)] as number;
results['savedStateToSsh'] = { medianMs: Math.round(restoreMedian), runsMs: restoreTimes.map(Math.round), targetMs: SAVED_STATE_TARGET_MS, ratio: Number((restoreMedian / SAVED_STATE_TARGET_MS).toFixed(2)) };
console.log(`saved state to SSH: median ${formatMs(restoreMedian)} of ${boots} [${restoreTimes.map((t) => formatMs(t)).join(', ')}], ${(restoreMedian / SAVED_STATE_TARGET_MS).toFixed(2)}x the 2 s target`);

mkdirSync(REPORTS_DIR, { recursive: true });
writeFileSync(path.join(REPORTS_DIR, 'bench.json'), `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
