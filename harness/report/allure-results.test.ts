import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readAllureResults } from './allure-results.js';
import { displayPath } from './paths.js';

describe('allure results', () => {
  it('lists each test with the attachments of its nested steps', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'results-'));
    writeFileSync(path.join(dir, 'b-result.json'), JSON.stringify({
      name: 'rebase', status: 'passed', attachments: [{ name: 'vm: serial console' }],
      steps: [{ name: 'vm: rebase', steps: [{ name: 'updater: rebase', attachments: [{ name: 'updater: rebase' }] }] }],
    }));
    writeFileSync(path.join(dir, 'a-result.json'), JSON.stringify({ name: 'create-disk', status: 'broken' }));
    writeFileSync(path.join(dir, 'x-attachment.txt'), 'text');
    expect(readAllureResults(dir)).toEqual([
      { name: 'create-disk', status: 'broken', attachments: [] },
      { name: 'rebase', status: 'passed', attachments: ['vm: serial console', 'updater: rebase'] },
    ]);
    expect(readAllureResults(path.join(dir, 'none'))).toEqual([]);
  });

  it('shows paths relative to the working directory only when inside it', () => {
    expect(displayPath('/work/main/reports/baseline.json', '/work/main')).toBe('reports/baseline.json');
    expect(displayPath('/tmp/baseline.json', '/work/main')).toBe('/tmp/baseline.json');
  });
});
