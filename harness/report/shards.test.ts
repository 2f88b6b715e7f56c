/**
 * Shards: each `--shard=i/n` run writes its Allure results to its own directory, and one report merges
 * them. The end-to-end part runs the fake e2e project (no VM) as two shards and reads the merged report.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { generateAllureReport } from './allure-report.js';
import { readAllureResults } from './allure-results.js';
import { resultsDirFor, resultsDirsUnder, shardOf, staleResults } from './shards.js';

describe('shard results directories', () => {
  it('a whole run writes to the base, a shard below it', () => {
    expect(resultsDirFor('/r/allure-results')).toBe('/r/allure-results');
    expect(resultsDirFor('/r/allure-results', { index: 2, count: 3 })).toBe('/r/allure-results/shard-2-of-3');
  });

  it('a shard removes an earlier whole run, other shard counts and its own old results, and keeps its siblings', () => {
    const entries = ['abc-result.json', 'def-attachment.txt', 'shard-1-of-2', 'shard-2-of-2', 'shard-1-of-3'];
    expect(staleResults(entries, { index: 1, count: 2 })).toEqual(['abc-result.json', 'def-attachment.txt', 'shard-1-of-2', 'shard-1-of-3']);
    expect(staleResults(entries)).toEqual(entries);
  });

  it('the report reads the base and every shard that holds results, in shard order', () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'layercheck-shards-'));
    try {
      for (const dir of ['shard-2-of-2', 'shard-1-of-2', 'shard-3-of-3', 'unrelated']) mkdirSync(path.join(base, dir));
      writeFileSync(path.join(base, 'shard-2-of-2', 'a-result.json'), '{}');
      writeFileSync(path.join(base, 'shard-1-of-2', 'b-result.json'), '{}');
      expect(resultsDirsUnder(base)).toEqual([path.join(base, 'shard-1-of-2'), path.join(base, 'shard-2-of-2')]);
      writeFileSync(path.join(base, 'c-result.json'), '{}');
      expect(resultsDirsUnder(base)[0]).toBe(base);
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  it('a vitest config is a shard only with more than one shard', () => {
    expect(shardOf({})).toBeUndefined();
    expect(shardOf({ shard: { index: 1, count: 1 } })).toBeUndefined();
    expect(shardOf({ shard: { index: 2, count: 2 } })).toEqual({ index: 2, count: 2 });
  });
});

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./testdata/fake-e2e/vitest.config.ts', import.meta.url));

describe('a run in two shards', () => {
  const reports = mkdtempSync(path.join(os.tmpdir(), 'layercheck-sharded-'));
  afterAll(() => rmSync(reports, { recursive: true, force: true }));
  writeFileSync(path.join(reports, 'baseline.json'), JSON.stringify({ metrics: { 'rebase.derived.bytes': { value: 5_243_904, tolerance: 0.02, unit: 'bytes' } } }));

  const shard = (i: number) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
    return execa(path.join(ROOT, 'node_modules/.bin/vitest'), ['run', '--config', CONFIG, `--shard=${i}/2`], {
      cwd: ROOT, reject: false, all: true, extendEnv: false,
      env: { ...env, NO_COLOR: '1', LAYERCHECK_REPORTS_DIR: reports, LAYERCHECK_BASELINE: path.join(reports, 'baseline.json'), FAKE_E2E_SECOND: '1' },
    });
  };

  it('writes each shard apart, and one report holds both shards\' results', async () => {
    // One after the other, as two CI machines would; the second must not remove the first's results.
    for (const i of [1, 2]) {
      const result = await shard(i);
      expect(result.exitCode, result.all).toBe(0);
    }
    const base = path.join(reports, 'allure-results');
    const [one, two] = [1, 2].map((i) => readAllureResults(path.join(base, `shard-${i}-of-2`)).map((r) => r.name));
    // vitest puts each file in one shard: the scenario names split between them, one gate per shard.
    const scenarios = ['derived image: downloads only the added layer', 'plain ostree update: layer refs pruned'];
    expect([...one!, ...two!].filter((n) => scenarios.includes(n)).sort()).toEqual(scenarios);
    expect(one).toContain('download size against the baseline (shard 1 of 2)');
    expect(two).toContain('download size against the baseline (shard 2 of 2)');
    expect(readdirSync(base).filter((f) => f.endsWith('.json'))).toEqual([]);

    const index = await generateAllureReport({ resultsDir: base, outputDir: path.join(reports, 'allure-report'), historyPath: path.join(reports, 'allure-history.jsonl') });
    const names = reportTestNames(path.dirname(index));
    for (const name of [...scenarios, 'download size against the baseline (shard 1 of 2)', 'download size against the baseline (shard 2 of 2)']) {
      expect(names).toContain(name);
    }
  }, 240_000);
});

/** The test names in a generated single-file report: its data is inlined as base64 JSON files. */
function reportTestNames(reportDir: string): string[] {
  const html = readFileSync(path.join(reportDir, 'index.html'), 'utf8');
  const names = new Set<string>();
  for (const match of html.matchAll(/"([A-Za-z0-9+/=]{40,})"/g)) {
    const text = Buffer.from(match[1]!, 'base64').toString('utf8');
    for (const name of text.matchAll(/"name":"([^"]+)"/g)) names.add(name[1]!);
  }
  expect(existsSync(path.join(reportDir, 'index.html'))).toBe(true);
  return [...names];
}
