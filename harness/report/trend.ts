import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import type { Baseline } from './baseline.js';
import { type HistoryRecord, metricOf } from './history.js';
import { type MetricUnit, REPORTS_DIR } from './metrics.js';

/** `reports/trend.svg`: every gated metric over the history, with its baseline band. */
export const TREND_FILE = path.join(REPORTS_DIR, 'trend.svg');

/** How a unit is drawn: bytes in MB (as ostree-ext prints them), the rest as they are. */
function scaleOf(unit: MetricUnit): { factor: number; label: string } {
  switch (unit) {
    case 'bytes':
      return { factor: 1e6, label: 'MB' };
    case 'ms':
      return { factor: 1000, label: 's' };
    case 'count':
    case 'ratio':
      return { factor: 1, label: unit };
    default:
      return unit satisfies never;
  }
}

/**
 * The vega-lite spec of the trend chart: one panel per gated metric (stacked), each with the run values
 * as a line over time, the baseline as a dashed rule, and the band from baseline to baseline × (1 + tolerance)
 * the gate accepts. Pure: the data is inlined, so the spec can be rendered or inspected as it is.
 */
export function trendSpec(history: readonly HistoryRecord[], baseline: Baseline): TopLevelSpec {
  const panels = Object.entries(baseline.metrics).map(([name, entry]) => {
    const { factor, label } = scaleOf(entry.unit);
    const runs = history.flatMap((record) => {
      const m = metricOf(record, name);
      if (!m || m.unit !== entry.unit) return [];
      const over = entry.value !== null && m.value > entry.value * (1 + entry.tolerance);
      return [{ time: record.time, value: m.value / factor, commit: record.commit ?? '', accel: record.accel ?? '', over }];
    });
    const band = entry.value === null ? [] : [{ low: entry.value / factor, high: (entry.value * (1 + entry.tolerance)) / factor }];
    const tolerance = `${(entry.tolerance * 100).toFixed(1)}%`;
    const subtitle = [
      entry.value === null ? 'no baseline value yet' : `band: baseline to +${tolerance}`,
      runs.length === 0 ? 'not measured yet' : `${runs.length} run${runs.length === 1 ? '' : 's'}`,
    ].join('; ');
    return {
      title: { text: `${name} (${label})`, subtitle, anchor: 'start' as const },
      width: 560,
      height: 140,
      layer: [
        {
          data: { values: band },
          mark: { type: 'rect' as const, color: '#2e7d32', opacity: 0.15 },
          encoding: { y: { field: 'low', type: 'quantitative' as const }, y2: { field: 'high' } },
        },
        {
          data: { values: band },
          mark: { type: 'rule' as const, color: '#2e7d32', strokeDash: [6, 4] },
          encoding: { y: { field: 'low', type: 'quantitative' as const } },
        },
        {
          data: { values: runs },
          mark: { type: 'line' as const, point: true, color: '#1565c0' },
          encoding: {
            x: { field: 'time', type: 'temporal' as const, title: null },
            y: { field: 'value', type: 'quantitative' as const, title: label, scale: { zero: false } },
          },
        },
        {
          // Runs above the band, in red: the ones the gate failed.
          data: { values: runs.filter((r) => r.over) },
          mark: { type: 'point' as const, filled: true, size: 70, color: '#c62828' },
          encoding: { x: { field: 'time', type: 'temporal' as const }, y: { field: 'value', type: 'quantitative' as const } },
        },
      ],
    };
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Gated metrics per e2e run', subtitle: 'reports/history.jsonl against reports/baseline.json', anchor: 'start' },
    background: 'white',
    vconcat: panels,
    config: { font: 'sans-serif', view: { stroke: '#ddd' } },
  };
}

/** Render the trend chart as SVG, in Node, without a browser or canvas (vega's headless SVG renderer). */
export async function renderTrendSvg(history: readonly HistoryRecord[], baseline: Baseline): Promise<string> {
  // Loaded on demand: importing the harness must not pull in the charting library.
  const [vega, vegaLite] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vegaLite.compile(trendSpec(history, baseline)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Render and write `reports/trend.svg` (or `file`); returns the path. */
export async function writeTrendSvg(history: readonly HistoryRecord[], baseline: Baseline, file = TREND_FILE): Promise<string> {
  const svg = await renderTrendSvg(history, baseline);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, svg);
  return file;
}
