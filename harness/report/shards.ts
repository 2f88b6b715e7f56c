import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';

/** vitest's `--shard=index/count`. */
export interface Shard {
  index: number;
  count: number;
}

const SHARD_DIR = /^shard-(\d+)-of-(\d+)$/;

/**
 * Where a run writes its Allure results: `<base>` for a whole run, `<base>/shard-<i>-of-<n>` for one
 * shard, so shards run on one machine (or unpacked side by side from CI artifacts) never overwrite each
 * other, and `npm run report` merges every shard found.
 */
export function resultsDirFor(base: string, shard?: Shard): string {
  return shard ? path.join(base, `shard-${shard.index}-of-${shard.count}`) : base;
}

/**
 * What a starting run removes under `base` so that the report shows this run only: everything for a
 * whole run; for shard i/n, the results of an earlier whole run, of other shard counts, and of the same
 * shard, keeping the other shards of this count (run before or after, they make one report).
 */
export function staleResults(entries: readonly string[], shard?: Shard): string[] {
  if (!shard) return [...entries];
  return entries.filter((name) => {
    const match = SHARD_DIR.exec(name);
    if (!match) return true;
    return Number(match[2]) !== shard.count || Number(match[1]) === shard.index;
  });
}

/** Empty what `staleResults` names under `base` (which may not exist yet). */
export function cleanResults(base: string, shard?: Shard): void {
  if (!existsSync(base)) return;
  for (const name of staleResults(readdirSync(base), shard)) rmSync(path.join(base, name), { recursive: true, force: true });
}

/** The results directories of a run under `base`: `base` itself if it holds results, and each shard's. */
export function resultsDirsUnder(base: string): string[] {
  if (!existsSync(base)) return [];
  const hasResults = (dir: string) => readdirSync(dir).some((f) => f.endsWith('-result.json'));
  const shards = readdirSync(base)
    .filter((name) => SHARD_DIR.test(name) && statSync(path.join(base, name)).isDirectory())
    .sort((a, b) => Number(SHARD_DIR.exec(a)?.[1]) - Number(SHARD_DIR.exec(b)?.[1]))
    .map((name) => path.join(base, name));
  return [...(hasResults(base) ? [base] : []), ...shards.filter(hasResults)];
}

/** The shard of a vitest config (`config.shard`), if the run is one. */
export function shardOf(config: { shard?: { index: number; count: number } | undefined }): Shard | undefined {
  const shard = config.shard;
  return shard && shard.count > 1 ? { index: shard.index, count: shard.count } : undefined;
}
