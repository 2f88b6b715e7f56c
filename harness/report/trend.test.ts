import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Baseline } from './baseline.js';
import type { HistoryRecord } from './history.js';
import { trendSpec, writeTrendSvg } from './trend.js';

const baseline: Baseline = {
  metrics: {
    'rebase.derived.bytes': { value: 52_428_800, tolerance: 0.02, unit: 'bytes' },
    'upgrade.commit.bytes': { value: null, tolerance: 0.02, unit: 'bytes' },
  },
};
const history: HistoryRecord[] = [52_428_800, 52_600_000, 60_817_408].map((value, i) => ({
  time: `2026-11-2${i}T06:00:00.000Z`, commit: `c${i}`, host: 'ci', accel: 'tcg',
  metrics: [{ name: 'rebase.derived.bytes', value, unit: 'bytes' }],
}));

interface Panel { title: { text: string; subtitle: string }; layer: Array<{ data: { values: Array<Record<string, unknown>> } }> }

describe('trend', () => {
  it('has one panel per gated metric: band, baseline rule, runs, and the runs above the band', () => {
    const spec = trendSpec(history, baseline) as unknown as { vconcat: Panel[] };
    expect(spec.vconcat.map((p) => p.title.text)).toEqual(['rebase.derived.bytes (MB)', 'upgrade.commit.bytes (MB)']);
    const [band, rule, runs, over] = spec.vconcat[0]!.layer;
    expect(band!.data.values).toHaveLength(1);
    expect(band!.data.values[0]!.low).toBeCloseTo(52.4288, 6);
    expect(band!.data.values[0]!.high).toBeCloseTo(53.477376, 6);
    expect(rule!.data.values).toEqual(band!.data.values);
    expect(runs!.data.values.map((r) => r.value)).toEqual([52.4288, 52.6, 60.817408]);
    expect(over!.data.values.map((r) => r.commit)).toEqual(['c2']);
    expect(spec.vconcat[1]!.title.subtitle).toBe('no baseline value yet; not measured yet');
    expect(spec.vconcat[1]!.layer[0]!.data.values).toEqual([]);
  });

  it('renders SVG in Node, without a browser', async () => {
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'trend-')), 'trend.svg');
    await writeTrendSvg(history, baseline, file);
    const svg = readFileSync(file, 'utf8');
    expect(svg).toMatch(/^<svg /);
    expect(svg).toContain('rebase.derived.bytes (MB)');
    expect(svg).toContain('upgrade.commit.bytes (MB)');
  }, 30_000);
});
