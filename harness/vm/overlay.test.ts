import { readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { SetupError } from '../util/errors.js';
import { createOverlay } from './overlay.js';

describe('createOverlay', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
  });
  afterEach(async () => {
    await temp.cleanup();
  });

  test('backs a qcow2 overlay by the absolute base path, leaving the base alone', async () => {
    const base = join(temp.path, 'base.qcow2');
    await execa('qemu-img', ['create', '-q', '-f', 'qcow2', base, '16M']);
    const before = await readFile(base);
    const overlay = join(temp.path, 'vm', 'overlay.qcow2');
    await execa('mkdir', [join(temp.path, 'vm')]);
    await createOverlay(relative(process.cwd(), base), overlay);
    const info = JSON.parse((await execa('qemu-img', ['info', '--output=json', overlay])).stdout) as Record<string, unknown>;
    expect(info).toMatchObject({ format: 'qcow2', 'backing-filename': base, 'backing-filename-format': 'qcow2' });
    expect(await readFile(base)).toEqual(before);
    expect((await stat(overlay)).size).toBeGreaterThan(0);
  });

  test('a missing base is a setup error naming it', async () => {
    const missing = join(temp.path, 'missing.qcow2');
    const error = await createOverlay(missing, join(temp.path, 'o.qcow2')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SetupError);
    expect((error as Error).message).toBe(`base disk ${missing} is not readable (ENOENT)`);
  });
});
