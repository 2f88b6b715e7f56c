import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LAST_USED_FILE, cached, rememberedSha256, sha256File, tryLockEntry } from './cache.js';

describe('cached', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let saved: string | undefined;
  beforeEach(async () => {
    temp = await dir({ unsafeCleanup: true });
    saved = process.env.E2E_CACHE_DIR;
    process.env.E2E_CACHE_DIR = temp.path;
  });
  afterEach(async () => {
    if (saved === undefined) delete process.env.E2E_CACHE_DIR;
    else process.env.E2E_CACHE_DIR = saved;
    await temp.cleanup();
  });

  test('concurrent callers build an entry once and all read it', async () => {
    let builds = 0;
    const build = async (out: string) => {
      builds++;
      await new Promise((resolve) => setTimeout(resolve, 300));
      await writeFile(path.join(out, 'file'), 'content');
      return { file: path.join(out, 'file') };
    };
    const [a, b, c] = await Promise.all([cached('kind', 'k1', build), cached('kind', 'k1', build), cached('kind', 'k1', build)]);
    expect(builds).toBe(1);
    expect([a.hit, b.hit, c.hit].filter((hit) => !hit)).toHaveLength(1);
    expect(b.value).toEqual(a.value);
    expect(await readFile(a.value.file, 'utf8')).toBe('content');
    expect(existsSync(path.join(temp.path, 'kind', 'k1.lock'))).toBe(false);
  });

  test('a lock left by a process that is gone is taken over', async () => {
    await mkdir(path.join(temp.path, 'kind'), { recursive: true });
    // Above any pid_max Linux allows (2^22): no process has it.
    await writeFile(path.join(temp.path, 'kind', 'k2.lock'), String(2 ** 22 + 1));
    const entry = await cached('kind', 'k2', async () => 'built');
    expect(entry).toMatchObject({ value: 'built', hit: false });
  });

  test('a failed build leaves no entry and no lock; the next call builds', async () => {
    await expect(cached('kind', 'k3', async () => { throw new Error('broken'); })).rejects.toThrow('broken');
    expect(existsSync(path.join(temp.path, 'kind', 'k3.lock'))).toBe(false);
    expect((await cached('kind', 'k3', async () => 'second')).value).toBe('second');
  });

  test('a build and every hit stamp the entry\'s last use', async () => {
    await cached('kind', 'k4', async () => 'value');
    const stampFile = path.join(temp.path, 'kind', 'k4', LAST_USED_FILE);
    const old = new Date(Date.now() - 86_400_000);
    await utimes(stampFile, old, old);
    const before = Date.now();
    expect((await cached('kind', 'k4', async () => 'rebuilt')).value).toBe('value');
    expect((await stat(stampFile)).mtimeMs).toBeGreaterThanOrEqual(before - 1000);
  });

  test('tryLockEntry takes a free lock, reports a live holder, takes over a dead one', async () => {
    const entry = path.join(temp.path, 'kind', 'k5');
    await mkdir(path.dirname(entry), { recursive: true });
    const first = await tryLockEntry(entry, 'k5');
    expect('release' in first).toBe(true);
    expect(await tryLockEntry(entry, 'k5')).toEqual({ holder: process.pid });
    if ('release' in first) await first.release();
    await writeFile(`${entry}.lock`, String(2 ** 22 + 1));
    const second = await tryLockEntry(entry, 'k5');
    expect('release' in second).toBe(true);
    expect(await readFile(`${entry}.lock`, 'utf8')).toBe(String(process.pid));
  });

  test('rememberedSha256 is the file hash, recomputed when the file changes', async () => {
    const file = path.join(temp.path, 'disk.qcow2');
    await writeFile(file, 'one');
    expect(await rememberedSha256(file)).toBe(await sha256File(file));
    await writeFile(file, 'two');
    await utimes(file, new Date(), new Date(Date.now() + 5_000));
    expect(await rememberedSha256(file)).toBe(await sha256File(file));
  });
});
