import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SetupError } from '../util/errors.js';
import { REPORTS_DIR } from './metrics.js';
import { resultsDirsUnder } from './shards.js';

export interface AllureReportOptions {
  /**
   * The run's results: the directory and every `shard-i-of-n` below it (shards merge into one report).
   * @default reports/allure-results
   */
  resultsDir?: string;
  /** More results directories to merge in (e.g. shards' results downloaded from other CI machines). */
  extraResultsDirs?: readonly string[];
  /** @default reports/allure-report */
  outputDir?: string;
  /** Allure's own history (status of every test per report), for its trend charts. @default reports/allure-history.jsonl */
  historyPath?: string;
  /** @default 'layercheck e2e' */
  name?: string;
}

/** Where `npm run report` writes the HTML report: one self-contained `index.html`. */
export const ALLURE_REPORT_DIR = path.join(REPORTS_DIR, 'allure-report');

/**
 * The Allure 3 configuration (`allurerc`) of our report: the "awesome" HTML report as a single file (opens
 * from disk, travels as one CI artifact), tests grouped by suite (the scenario file's `describe`).
 */
export function allureConfig(options: Required<Omit<AllureReportOptions, 'extraResultsDirs'>>): Record<string, unknown> {
  return {
    name: options.name,
    output: options.outputDir,
    historyPath: options.historyPath,
    plugins: {
      awesome: {
        options: {
          reportName: options.name,
          reportLanguage: 'en',
          singleFile: true,
          groupBy: ['parentSuite', 'suite', 'subSuite'],
        },
      },
    },
  };
}

/**
 * Fixes of the generated single-file `index.html`, each a no-op when its pattern is absent:
 * - the report's data is inlined at the end of the page, after the app, which may ask for it first and then
 *   `fetch()`es files that do not exist (blocked from `file://`): declare the data holder before the app
 *   runs, so it waits for the data instead;
 * - the page loads Google Analytics (`analyticsEnable` is hard-wired in Allure 3.18): a test report opened
 *   from disk must not call a third party, so that script goes.
 */
export function patchReportHtml(html: string): { html: string; patched: string[] } {
  const patched: string[] = [];
  let out = html;
  if (out.includes('allureReportData') && !out.includes('data-layercheck="data-holder"')) {
    const holder = '<script data-layercheck="data-holder">window.allureReportData = window.allureReportData || {}; window.allureReportDataReady = false;</script>';
    const next = out.replace(/<body>/, `<body>\n    ${holder}`);
    if (next !== out) patched.push('data holder declared before the app');
    out = next;
  }
  const analytics = /<script async src="https:\/\/www\.googletagmanager\.com\/gtag\/js[^"]*"><\/script>\s*<script>\s*window\.dataLayer[\s\S]*?<\/script>/;
  if (analytics.test(out)) {
    out = out.replace(analytics, '');
    patched.push('analytics removed');
  }
  return { html: out, patched };
}

/** The `allure` command of the installed package (its package.json is not exported: found from its entry point). */
function allureCli(): string {
  let dir = path.dirname(createRequire(import.meta.url).resolve('allure'));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new SetupError('cannot find the `allure` package; run `npm ci`');
    dir = parent;
  }
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { bin?: string | Record<string, string> };
  const bin = typeof pkg.bin === 'string' ? pkg.bin : pkg.bin?.allure;
  if (!bin) throw new SetupError('the `allure` package has no `allure` command; run `npm ci`');
  return path.join(dir, bin);
}

/**
 * Turn Allure results into the HTML report with Allure 3 (the npm package: no Java, nothing downloaded).
 * Returns the path of the report's `index.html`.
 */
export async function generateAllureReport(options: AllureReportOptions = {}): Promise<string> {
  const resolved: Required<Omit<AllureReportOptions, 'extraResultsDirs'>> = {
    resultsDir: options.resultsDir ?? path.join(REPORTS_DIR, 'allure-results'),
    outputDir: options.outputDir ?? ALLURE_REPORT_DIR,
    historyPath: options.historyPath ?? path.join(REPORTS_DIR, 'allure-history.jsonl'),
    name: options.name ?? 'layercheck e2e',
  };
  const { resultsDir, outputDir } = resolved;
  const dirs = [...resultsDirsUnder(resultsDir), ...(options.extraResultsDirs ?? []).flatMap((dir) => resultsDirsUnder(dir))];
  if (dirs.length === 0) {
    throw new SetupError(`no Allure results in ${[resultsDir, ...(options.extraResultsDirs ?? [])].join(', ')}: run \`npm run e2e\` first`);
  }
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'layercheck-allurerc-'));
  try {
    const config = path.join(configDir, 'allurerc.json');
    writeFileSync(config, JSON.stringify(allureConfig(resolved), null, 2));
    rmSync(outputDir, { recursive: true, force: true });
    await execa(process.execPath, [allureCli(), 'generate', ...dirs, '--config', config, '--output', outputDir], { stdio: 'inherit' });
  } finally {
    rmSync(configDir, { recursive: true, force: true });
  }
  const index = path.join(outputDir, 'index.html');
  if (!existsSync(index)) throw new SetupError(`allure generate wrote no ${index}`);
  const { html } = patchReportHtml(readFileSync(index, 'utf8'));
  writeFileSync(index, html);
  return index;
}
