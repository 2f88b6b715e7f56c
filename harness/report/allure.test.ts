import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

const calls = vi.hoisted(() => [] as unknown[][]);
vi.mock('allure-js-commons', () => ({
  attachment: async (...args: unknown[]) => { calls.push(['attachment', ...args]); },
  parameter: async (...args: unknown[]) => { calls.push(['parameter', ...args]); },
  step: async (name: string, body: () => Promise<unknown>) => { calls.push(['step', name]); return body(); },
}));

const { allureStep, attachCsv, attachFile, attachJson, attachText, enableAllure, reportParameter } = await import('./allure.js');

describe('allure', () => {
  afterEach(() => {
    enableAllure(false);
    calls.length = 0;
  });

  it('does nothing until the e2e setup file enables it', async () => {
    await attachText('a', 'b');
    await reportParameter('accel', 'tcg');
    expect(await allureStep('vm: boot', async () => 7)).toBe(7);
    expect(calls).toEqual([]);
  });

  it('attaches text, JSON, CSV, files; reports parameters; runs steps', async () => {
    enableAllure();
    const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'allure-')), 'console.log');
    writeFileSync(file, 'Linux version 6.1\n');
    await attachText('updater: rebase', 'layers needed: 1');
    await attachJson('status', { booted: true });
    await attachCsv('proxy requests', 'id,path\n1,/v2/\n');
    await attachFile('vm: serial console', file);
    await attachFile('missing', path.join(path.dirname(file), 'nope.log'));
    await reportParameter('rebase.derived.bytes', 5);
    expect(await allureStep('vm: rebase', async () => 'done')).toBe('done');
    expect(calls).toEqual([
      ['attachment', 'updater: rebase', 'layers needed: 1', { contentType: 'text/plain', encoding: 'utf8' }],
      ['attachment', 'status', '{\n  "booted": true\n}\n', { contentType: 'application/json', encoding: 'utf8' }],
      ['attachment', 'proxy requests', 'id,path\n1,/v2/\n', { contentType: 'text/csv', encoding: 'utf8' }],
      ['attachment', 'vm: serial console', Buffer.from('Linux version 6.1\n'), { contentType: 'text/plain' }],
      ['attachment', 'missing', expect.stringMatching(/^could not read .*nope\.log: ENOENT/), { contentType: 'text/plain', encoding: 'utf8' }],
      ['parameter', 'rebase.derived.bytes', '5'],
      ['step', 'vm: rebase'],
    ]);
  });
});
