import { existsSync } from 'node:fs';
import { link, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { dir } from 'tmp-promise';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { LAST_USED_FILE, RESULT_FILE } from './cache.js';
import type { PrunePolicy } from './cache-plan.js';
import { formatPruneSummary, pruneCache, qcow2Backing, removeEntry, scanCache } from './cache-prune.js';

const HOUR = 3_600_000;
const NOW = Date.now();
const policy: PrunePolicy = { recentMs: 24 * HOUR, keepPerKind: { disk: 1 }, keepOther: 1 };
/** Above any pid_max Linux allows (2^22): no process has it. */
const DEAD_PID = 2 ** 22 + 1;

let temp: { path: string; cleanup: () => Promise<void> };
let root: string;
beforeEach(async () => {
  temp = await dir({ unsafeCleanup: true });
  root = temp.path;
});
afterEach(() => temp.cleanup());

/** An entry `kind/key` last used `hoursAgo` ago, with `files` (name: content) and a result naming `refers`. */
async function entry(id: string, hoursAgo: number, files: Record<string, string | Buffer> = {}, refers: string[] = []): Promise<string> {
  const entryDir = path.join(root, id);
  await mkdir(entryDir, { recursive: true });
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(entryDir, name), content);
  await writeFile(path.join(entryDir, RESULT_FILE), JSON.stringify({ files: refers.map((r) => path.join(root, r)) }));
  const when = new Date(NOW - hoursAgo * HOUR);
  await writeFile(path.join(entryDir, LAST_USED_FILE), '');
  await utimes(path.join(entryDir, LAST_USED_FILE), when, when);
  return entryDir;
}

/** The first bytes of a qcow2 v3 header naming `backing` (all qcow2Backing reads). */
function qcow2Header(backing: string): Buffer {
  const header = Buffer.alloc(112 + backing.length);
  header.writeUInt32BE(0x514649fb, 0);
  header.writeUInt32BE(3, 4);
  header.writeBigUInt64BE(112n, 8);
  header.writeUInt32BE(backing.length, 16);
  header.write(backing, 112);
  return header;
}

const list = async (sub: string) => (await readdir(path.join(root, sub))).sort();

describe('pruneCache', () => {
  test('removes what the plan says, keeps the rest, never touches non-entry directories', async () => {
    await entry('disk/new', 30, { 'disk.qcow2': 'new disk' });
    await entry('disk/old', 60, { 'disk.qcow2': 'old disk' });
    await entry('disk/older', 90, { 'disk.qcow2': 'older disk' });
    await mkdir(path.join(root, 'apt-archives'), { recursive: true });
    await writeFile(path.join(root, 'apt-archives', 'x.deb'), 'deb');
    await mkdir(path.join(root, 'keys'), { recursive: true });
    await writeFile(path.join(root, 'keys', 'client.json'), '{}');
    const report = await pruneCache({ root, policy, now: NOW });
    expect(report.removed.map((r) => r.what)).toEqual(['disk/older', 'disk/old']);
    expect(report.errors).toEqual([]);
    expect(await list('disk')).toEqual(['new']);
    expect(await list('apt-archives')).toEqual(['x.deb']);
    expect(await list('keys')).toEqual(['client.json']);
    expect(report.freedBytes).toBeGreaterThan(0);
  });

  test('a dry run deletes nothing and reports the same removals', async () => {
    await entry('disk/new', 30);
    await entry('disk/old', 60);
    const report = await pruneCache({ root, policy, now: NOW, dryRun: true });
    expect(report.removed.map((r) => r.what)).toEqual(['disk/old']);
    expect(report.freedBytes).toBeGreaterThan(0);
    expect(await list('disk')).toEqual(['new', 'old']);
  });

  test('an entry locked by a live process stays; a lock of a process that is gone protects nothing', async () => {
    await entry('disk/new', 30);
    await entry('disk/locked', 60);
    await entry('disk/stale-lock', 70);
    await writeFile(path.join(root, 'disk', 'locked.lock'), String(process.pid));
    await writeFile(path.join(root, 'disk', 'stale-lock.lock'), String(DEAD_PID));
    const report = await pruneCache({ root, policy, now: NOW });
    expect(report.plan.keep.find((d) => d.entry.key === 'locked')?.reason).toBe(`in use: locked by pid ${process.pid}`);
    expect(report.removed.map((r) => r.what)).toEqual(['disk/stale-lock']);
    expect(await list('disk')).toEqual(['locked', 'locked.lock', 'new']);
  });

  test('half-built directories of gone processes go, those of live ones stay', async () => {
    await mkdir(path.join(root, 'rootfs', `k.building-${DEAD_PID}`, 'usr'), { recursive: true });
    await mkdir(path.join(root, 'rootfs', `k.building-${process.pid}`), { recursive: true });
    const report = await pruneCache({ root, policy, now: NOW });
    expect(report.removed.map((r) => [r.what, r.reason])).toEqual([[`rootfs/k.building-${DEAD_PID}`, `left by pid ${DEAD_PID}, which is gone`]]);
    expect(await list('rootfs')).toEqual([`k.building-${process.pid}`]);
  });

  test('a saved state keeps the disk its overlay is backed by, and goes when that disk is gone', async () => {
    const kept = await entry('disk/backing', 90, { 'disk.qcow2': 'disk' });
    await entry('disk/new', 30);
    await entry('saved-state/s', 2, { 'overlay.qcow2': qcow2Header(path.join(kept, 'disk.qcow2')) });
    await entry('saved-state/orphan', 1, { 'overlay.qcow2': qcow2Header(path.join(root, 'disk', 'gone', 'disk.qcow2')) });
    const report = await pruneCache({ root, policy, now: NOW });
    expect(report.plan.keep.find((d) => d.entry.key === 'backing')?.reason).toBe('needed by saved-state/s');
    expect(report.removed.map((r) => [r.what, r.reason])).toEqual([
      ['saved-state/orphan', `broken: overlay.qcow2 is backed by ${path.join(root, 'disk', 'gone', 'disk.qcow2')}, which is gone`],
    ]);
    expect(await list('disk')).toEqual(['backing', 'new']);
  });

  test('a remembered hash goes with its disk and stays with a kept one', async () => {
    const keptDisk = await entry('disk/new', 30, { 'disk.qcow2': 'a' });
    const oldDisk = await entry('disk/old', 60, { 'disk.qcow2': 'b' });
    await mkdir(path.join(root, 'hashes'));
    const memo = (disk: string) => JSON.stringify({ identity: JSON.stringify({ abs: disk, size: 1, ino: 1, mtimeMs: 1 }), sha256: 'x' });
    await writeFile(path.join(root, 'hashes', 'kept.json'), memo(path.join(keptDisk, 'disk.qcow2')));
    await writeFile(path.join(root, 'hashes', 'pruned.json'), memo(path.join(oldDisk, 'disk.qcow2')));
    await writeFile(path.join(root, 'hashes', 'gone.json'), memo('/nonexistent/disk.qcow2'));
    const report = await pruneCache({ root, policy, now: NOW });
    expect(report.removed.map((r) => r.what)).toEqual(['disk/old', 'hashes/gone.json', 'hashes/pruned.json']);
    expect(await list('hashes')).toEqual(['kept.json']);
  });

  test('freed bytes count a file hard-linked from a kept entry as not freed', async () => {
    const debian = await entry('debian/d', 1, { big: Buffer.alloc(1 << 20, 1) });
    await entry('rootfs/new', 30);
    const old = await entry('rootfs/old', 60);
    await link(path.join(debian, 'big'), path.join(old, 'big'));
    const report = await pruneCache({ root, policy, now: NOW, dryRun: true });
    const removed = report.removed.find((r) => r.what === 'rootfs/old');
    expect(removed?.bytes).toBeGreaterThanOrEqual(1 << 20);
    expect(report.freedBytes).toBeLessThan(1 << 20);
  });
});

test('removeEntry leaves an entry used since the scan, and removes it otherwise', async () => {
  const entryDir = await entry('disk/raced', 60);
  const planned = (await scanCache(root)).entries[0]?.lastUsedMs ?? 0;
  const now = new Date();
  await utimes(path.join(entryDir, LAST_USED_FILE), now, now); // a hit stamps it after the scan
  expect(await removeEntry(entryDir, planned)).toBe('used since the scan');
  expect(await list('disk')).toEqual(['raced']);
  const restamped = (await scanCache(root)).entries[0]?.lastUsedMs ?? 0;
  expect(await removeEntry(entryDir, restamped)).toBeUndefined();
  expect(existsSync(entryDir)).toBe(false);
  expect(await list('disk')).toEqual([]);
});

test('qcow2Backing reads the backing file name, and nothing from a file that is no qcow2', async () => {
  await writeFile(path.join(root, 'a.qcow2'), qcow2Header('/some/disk.qcow2'));
  await writeFile(path.join(root, 'b.qcow2'), 'not a qcow2 at all, but long enough');
  expect(await qcow2Backing(path.join(root, 'a.qcow2'))).toBe('/some/disk.qcow2');
  expect(await qcow2Backing(path.join(root, 'b.qcow2'))).toBeUndefined();
});

test('formatPruneSummary says what went, per kind, the bytes, and what was left or failed', () => {
  const plan = { remove: [], keep: [], staleDirs: [], memos: [] };
  expect(formatPruneSummary({ plan, removed: [], skipped: [], errors: [], freedBytes: 0 })).toBe('cache: removed nothing');
  expect(formatPruneSummary({
    plan,
    removed: [{ what: 'disk/a', bytes: 1, reason: '' }, { what: 'disk/b', bytes: 1, reason: '' }, { what: 'saved-state/c', bytes: 1, reason: '' }],
    skipped: [{ what: 'disk/d', reason: 'used since the scan' }],
    errors: [{ what: 'disk/e', message: 'EBUSY' }],
    freedBytes: 1.5 * 2 ** 30,
  }, true)).toBe('cache: would remove 3 (disk 2, saved-state 1), freeing 1.5 GiB; 1 left (used or locked meanwhile); 1 failed: disk/e: EBUSY');
});
