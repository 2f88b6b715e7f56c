/**
 * `npm run report:check`: open the generated HTML report in headless Chromium (Debian's `chromium`, driven
 * by playwright-core) as a person would, and check that it shows every scenario of the run, each one's
 * attachments, and the trend chart of the gated metrics. The screenshot stays in reports/report-screenshot.png.
 * Skipped when there is no report yet (`npm run e2e && npm run report` make one).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, type Page, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALLURE_REPORT_DIR } from './allure-report.js';
import { readAllureResults } from './allure-results.js';
import { GATE_TEST_NAME } from './gate-result.js';
import { REPORTS_DIR } from './metrics.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const INDEX = path.join(ALLURE_REPORT_DIR, 'index.html');
const RESULTS = path.join(REPORTS_DIR, 'allure-results');
export const SCREENSHOT = path.join(REPORTS_DIR, 'report-screenshot.png');
const TREND = 'trend of gated metrics';
const haveReport = existsSync(INDEX);
if (!haveReport) console.error(`layercheck: no report at ${INDEX}, the Chromium check is skipped: run \`npm run e2e && npm run report\` first`);

describe.skipIf(!haveReport)('the HTML report in Chromium', () => {
  const results = readAllureResults(RESULTS);
  let context: BrowserContext;
  let page: Page;
  let profile: string;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    profile = mkdtempSync(path.join(os.tmpdir(), 'layercheck-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1600, height: 1300 },
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** The report's first page; loaded once (a 4 MB page), then reached through its own hash routing. */
  async function openHome(): Promise<void> {
    const home = pathToFileURL(INDEX).href;
    if (page.url().startsWith(home)) await page.evaluate(() => { (globalThis as unknown as { location: { hash: string } }).location.hash = ''; });
    else await page.goto(home);
    await page.getByTestId('tree-section').first().waitFor({ timeout: 30_000 });
    await expandTree();
  }

  /** Open every collapsed group of the test tree (groups whose tests all passed start collapsed). */
  async function expandTree(): Promise<void> {
    for (let round = 0; round < 20; round++) {
      const collapsed = await page.$$eval('[data-testid="tree-section"]', (sections) =>
        sections.filter((s) => !s.parentElement?.querySelector(':scope > [data-testid="tree-content"]')).map((s) => s.id));
      if (collapsed.length === 0) return;
      for (const id of collapsed) await page.locator(`[id="${id}"] [data-testid="tree-arrow"]`).click();
    }
    throw new Error('the test tree did not finish expanding');
  }

  async function openTest(name: string): Promise<void> {
    await openHome();
    await page.getByTestId('tree-leaf-title').filter({ hasText: name }).first().click();
    await page.getByTestId('test-result-info-title').filter({ hasText: name }).waitFor({ timeout: 10_000 });
  }

  it('lists every test of the run, the gate among them', async () => {
    expect(results.map((r) => r.name)).toContain(GATE_TEST_NAME);
    await openHome();
    const shown = await page.getByTestId('tree-leaf-title').allInnerTexts();
    for (const { name } of results) expect(shown.map((s) => s.trim())).toContain(name);
  });

  it('shows the attachments of every test', async () => {
    for (const result of results.filter((r) => r.attachments.length > 0)) {
      await openTest(result.name);
      await page.getByTestId('test-result-tab-attachments').click();
      await page.getByTestId('test-result-attachment-header').first().waitFor({ timeout: 10_000 });
      const headers = (await page.getByTestId('test-result-attachment-header').allInnerTexts()).join('\n');
      for (const attachment of result.attachments) expect(headers, `${result.name}: attachment ${attachment}`).toContain(attachment);
    }
  });

  it('draws the trend chart of the gated metrics, next to the list of scenarios (screenshot)', async () => {
    await openHome();
    await page.getByTestId('toggle-layout-button').click(); // split: the tree on the left, the test on the right
    await page.getByTestId('tree-leaf-title').filter({ hasText: GATE_TEST_NAME }).first().click();
    await page.getByTestId('test-result-attachment-header').filter({ hasText: TREND }).first().click();
    const chart = page.locator('[data-testid="test-result-attachment"] img').first();
    await chart.waitFor({ timeout: 10_000 });
    const size = await chart.evaluate((img) => {
      const { naturalWidth, naturalHeight } = img as unknown as { naturalWidth: number; naturalHeight: number };
      return { width: naturalWidth, height: naturalHeight };
    });
    expect(size.width).toBeGreaterThan(200);
    expect(size.height).toBeGreaterThan(100);
    await chart.scrollIntoViewIfNeeded();
    await page.screenshot({ path: SCREENSHOT });
    // The left pane still lists the scenarios while the chart shows.
    const shown = await page.getByTestId('tree-leaf-title').allInnerTexts();
    expect(shown.length).toBe(results.length);
    console.error(`layercheck: screenshot of the report in ${path.relative(process.cwd(), SCREENSHOT) || SCREENSHOT}`);
  });
});
