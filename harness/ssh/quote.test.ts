import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { quoteArg, sh, shellCommand, toCommandLine, displayCommand } from './quote.js';

const TRICKY = [
  'plain',
  '',
  'two words',
  "it's",
  `"double"`,
  '$HOME',
  '`id`',
  '$(id)',
  'a\nb',
  'tab\there',
  'back\\slash',
  '~',
  '#not-a-comment',
  'x=1',
  '*',
  '-n',
  'é✓ 日本',
  '\x01\x7f',
  "'",
  "''",
];

/** Run printf with the arguments through a real shell, the way sshd hands it the command line. */
function roundTrip(shell: string, args: string[]): string[] {
  const out = execFileSync(shell, ['-c', shellCommand(['printf', '%s\\0', ...args])], { encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

describe('shellCommand', () => {
  test('leaves plain words alone and single-quotes the rest', () => {
    expect(shellCommand(['ostree', 'refs', '--repo=/sysroot/ostree/repo'])).toBe(`ostree refs '--repo=/sysroot/ostree/repo'`);
    expect(quoteArg('/usr/bin/rpm-ostree')).toBe('/usr/bin/rpm-ostree');
    expect(quoteArg('')).toBe(`''`);
    expect(quoteArg("it's")).toBe(`'it'\\''s'`);
  });

  test('never emits bash-only $\'...\' quoting', () => {
    for (const arg of TRICKY) expect(quoteArg(arg)).not.toMatch(/^\$'/);
  });

  // dash is the guest's /bin/sh on many systems and knows no $'...'; bash is the usual login shell.
  for (const shell of ['sh', 'dash', 'bash']) {
    test.skipIf(!existsSync(`/bin/${shell}`) && !existsSync(`/usr/bin/${shell}`))(`${shell} gets every argument back verbatim`, () => {
      expect(roundTrip(shell, TRICKY)).toEqual(TRICKY);
    });
  }

  test('refuses NUL and an empty argv instead of sending something else', () => {
    expect(() => quoteArg('a\0b')).toThrow(expect.objectContaining({ code: 'E_BAD_ARGUMENT' }));
    expect(() => shellCommand([])).toThrow(/at least one word/);
  });
});

describe('sh', () => {
  test('runs a deliberate script under sh -c, and shows it as written', () => {
    const script = sh('ostree refs | wc -l');
    expect(toCommandLine(script)).toBe(`sh -c 'ostree refs | wc -l'`);
    expect(displayCommand(script)).toBe('ostree refs | wc -l');
    expect(displayCommand(['echo', 'a b'])).toBe(`echo 'a b'`);
  });
});
