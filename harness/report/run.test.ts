/**
 * The report pipeline end to end, without a VM: a small e2e-like vitest project (testdata/fake-e2e) with
 * the real Allure reporter, setup file and run teardown records a gated metric; the run must pass within
 * tolerance and fail, with the one-line-per-metric message, above it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { readAllureResults } from './allure-results.js';
import { readHistory } from './history.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CONFIG = fileURLToPath(new URL('./testdata/fake-e2e/vitest.config.ts', import.meta.url));

async function fakeE2e(reportsDir: string, rebaseBytes: number): Promise<{ exitCode: number; output: string }> {
  // A clean environment for the inner vitest: none of the outer run's VITEST* variables.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('VITEST')));
  const result = await execa(path.join(ROOT, 'node_modules/.bin/vitest'), ['run', '--config', CONFIG], {
    cwd: ROOT, reject: false, all: true, extendEnv: false,
    env: {
      ...env, NO_COLOR: '1', LAYERCHECK_REPORTS_DIR: reportsDir, LAYERCHECK_BASELINE: path.join(reportsDir, 'baseline.json'),
      FAKE_REBASE_BYTES: String(rebaseBytes), FAKE_E2E_COMMIT: 'abc1234',
    },
  });
  return { exitCode: result.exitCode ?? -1, output: result.all ?? '' };
}

describe('an e2e run with the report wiring', () => {
  const reports = mkdtempSync(path.join(os.tmpdir(), 'layercheck-reports-'));
  afterAll(() => rmSync(reports, { recursive: true, force: true }));
  writeFileSync(path.join(reports, 'baseline.json'), JSON.stringify({
    metrics: {
      'rebase.derived.bytes': { value: 5_000_000, tolerance: 0.02, unit: 'bytes' },
      'upgrade.commit.bytes': { value: null, tolerance: 0.02, unit: 'bytes' },
    },
  }));

  it('passes within tolerance, and leaves history, trend and Allure results', async () => {
    const { exitCode, output } = await fakeE2e(reports, 5_100_000);
    expect(output).toContain('  ok   rebase.derived.bytes: baseline 5,000,000 bytes, measured 5,100,000 bytes, +2.00% (tolerance 2%)');
    expect(output).toContain('  note upgrade.commit.bytes: not measured in this run, skipped');
    expect(exitCode).toBe(0);
    const [record] = readHistory(path.join(reports, 'history.jsonl'));
    expect(record).toMatchObject({ commit: 'abc1234', metrics: [{ name: 'rebase.derived.bytes', value: 5_100_000, unit: 'bytes' }, { name: 'boot.to_ssh.ms', unit: 'ms' }] });
    expect(readFileSync(path.join(reports, 'trend.svg'), 'utf8')).toContain('rebase.derived.bytes (MB)');
    const results = readAllureResults(path.join(reports, 'allure-results'));
    expect(results.map((r) => [r.name, r.status])).toEqual([
      ['derived image: downloads only the added layer', 'passed'],
      ['download size against the baseline', 'passed'],
    ]);
    expect(results[0]!.attachments).toEqual([
      'ostree refs: rebase-fake, before rebase', 'updater: rebase', 'proxy requests: rebase', 'ostree refs: rebase-fake, after reboot', 'rebase-fake: serial console',
    ]);
  }, 120_000);

  it('fails above tolerance with one line per metric: name, baseline, measured, change', async () => {
    const { exitCode, output } = await fakeE2e(reports, 5_800_000);
    expect(exitCode).toBe(1);
    expect(output).toContain('download-size gate FAILED: 1 of 2 gated metrics above');
    expect(output).toContain('  FAIL rebase.derived.bytes: baseline 5,000,000 bytes, measured 5,800,000 bytes, +16.00% (tolerance 2%)');
    expect(readHistory(path.join(reports, 'history.jsonl'))).toHaveLength(2);
    const gate = readAllureResults(path.join(reports, 'allure-results')).find((r) => r.name === 'download size against the baseline');
    expect(gate?.status).toBe('failed');
  }, 120_000);
});
