/**
 * `npm run cache`: what the fixture cache holds, per kind (entries, size, last use, what a prune would remove).
 * `npm run cache -- prune [--dry-run] [--recent 90m]`: prune it by the policy of harness/util/cache-plan.ts
 * (what `npm run e2e` does after a successful run), printing each removal with its reason and the bytes freed.
 * `--entries` lists every entry with the plan's verdict on it.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_POLICY, type PrunePolicy, entryId, formatAge, formatBytes, planPrune } from '../harness/util/cache-plan.js';
import { entriesBytes, formatPruneSummary, pruneCache, scanCache, summarizeKinds } from '../harness/util/cache-prune.js';
import { cacheRoot } from '../harness/util/cache.js';
import { type Duration, toMs } from '../harness/util/duration.js';
import { LayercheckError } from '../harness/util/errors.js';

try {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean', default: false },
      entries: { type: 'boolean', default: false },
      recent: { type: 'string' },
    },
  });
  const command = positionals[0] ?? 'list';
  if (!['list', 'prune'].includes(command) || positionals.length > 1) {
    throw new LayercheckError('E_USAGE', `unknown command \`${positionals.join(' ')}\`: use \`npm run cache\` or \`npm run cache -- prune [--dry-run] [--recent 90m]\``);
  }
  // Keep entries used within this window instead of a day: to trim a cache by hand now.
  const policy: PrunePolicy = values.recent ? { ...DEFAULT_POLICY, recentMs: toMs(values.recent as Duration) } : DEFAULT_POLICY;
  const now = Date.now();
  const root = cacheRoot();
  if (command === 'list') {
    const contents = await scanCache(root);
    const plan = planPrune(contents, policy, now);
    console.log(`${root} (a prune keeps entries used in the last ${formatAge(policy.recentMs)}, then the most recently used per kind)`);
    const rows = summarizeKinds(contents, plan).map((row) => [
      row.kind,
      row.entries > 0 ? String(row.entries) : '-',
      formatBytes(row.bytes),
      row.newestUseMs !== undefined ? `${formatAge(now - row.newestUseMs)} ago` : '-',
      row.oldestUseMs !== undefined ? `${formatAge(now - row.oldestUseMs)} ago` : '-',
      row.entries > 0 ? `${row.prunable}` : 'never',
    ]);
    printTable([['kind', 'entries', 'size', 'newest use', 'oldest use', 'prunable'], ...rows]);
    console.log(`entries: ${formatBytes(entriesBytes(contents))} (hard links shared between kinds counted once)`);
    if (contents.staleDirs.length > 0) console.log(`${contents.staleDirs.length} half-built directories of processes that are gone (prunable)`);
    if (values.entries) {
      for (const { entry, reason } of [...plan.keep, ...plan.remove].sort((a, b) => entryId(a.entry).localeCompare(entryId(b.entry)))) {
        const verdict = plan.remove.some((d) => d.entry === entry) ? 'prune' : 'keep';
        console.log(`${verdict.padEnd(5)} ${entryId(entry)}  ${formatBytes(entry.bytes)}  used ${formatAge(now - entry.lastUsedMs)} ago: ${reason}`);
      }
    }
  } else {
    const dryRun = values['dry-run'];
    const report = await pruneCache({ root, policy, dryRun, now });
    for (const removed of report.removed) console.log(`${dryRun ? 'would remove' : 'removed'} ${removed.what} (${formatBytes(removed.bytes)}): ${removed.reason}`);
    for (const skipped of report.skipped) console.log(`left ${skipped.what}: ${skipped.reason}`);
    for (const failed of report.errors) console.error(`could not remove ${failed.what}: ${failed.message}`);
    console.log(formatPruneSummary(report, dryRun));
    if (report.errors.length > 0) process.exitCode = 1;
  }
} catch (error) {
  if (error instanceof LayercheckError) {
    console.error(`layercheck: ${error.message}`);
    process.exit(2);
  }
  throw error;
}

function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  for (const row of rows) console.log(row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd());
}
