import { describe, expect, it } from 'vitest';
import { allureConfig, patchReportHtml } from './allure-report.js';

const GENERATED = `<!DOCTYPE html>
<html><head><script>window.allureReportOptions = {}</script></head>
<body>
    <div id="app"></div>
    <script src="data:text/javascript;base64,AAAA"></script>
    <script async src="https://www.googletagmanager.com/gtag/js?id=G-LNDJ3J7WT0"></script>
    <script>
        window.dataLayer = window.dataLayer || [];
        function gtag(){dataLayer.push(arguments);}
        gtag('config', 'G-LNDJ3J7WT0', {});
    </script>
    <script async>
      window.allureReportDataReady = false;
      window.allureReportData = window.allureReportData || {};
    </script>
</body></html>`;

describe('allure report', () => {
  it('declares the report data before the app and removes the analytics script', () => {
    const { html, patched } = patchReportHtml(GENERATED);
    expect(patched).toEqual(['data holder declared before the app', 'analytics removed']);
    expect(html).not.toContain('googletagmanager');
    expect(html).not.toContain('gtag(');
    const holder = html.indexOf('data-layercheck="data-holder"');
    expect(holder).toBeGreaterThan(html.indexOf('<body>'));
    expect(holder).toBeLessThan(html.indexOf('data:text/javascript'));
    expect(patchReportHtml(html)).toEqual({ html, patched: [] });
  });

  it('leaves a page it does not recognise alone', () => {
    expect(patchReportHtml('<html><body>hi</body></html>')).toEqual({ html: '<html><body>hi</body></html>', patched: [] });
  });

  it('configures a single-file awesome report grouped by suite, with Allure history', () => {
    const config = allureConfig({ resultsDir: '/r/res', outputDir: '/r/out', historyPath: '/r/h.jsonl', name: 'layercheck e2e' });
    expect(config).toMatchObject({
      output: '/r/out', historyPath: '/r/h.jsonl',
      plugins: { awesome: { options: { singleFile: true, groupBy: ['parentSuite', 'suite', 'subSuite'] } } },
    });
  });
});
