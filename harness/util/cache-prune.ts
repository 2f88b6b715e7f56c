/**
 * Scanning and pruning the fixture cache: the IO around harness/util/cache-plan.ts. `npm run cache`
 * and the end of every successful `npm run e2e` use it.
 */
import { existsSync } from 'node:fs';
import { lstat, open, readFile, readdir, readlink, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { isRunning } from './ancestors.js';
import { LAST_USED_FILE, RESULT_FILE, cacheRoot, removeTree, tryLockEntry } from './cache.js';
import { type CacheScan, DEFAULT_POLICY, type HashMemo, type InodeTable, type PrunePlan, type PrunePolicy, type ScannedEntry, type StaleDir, entryId, formatBytes, freedBytes, planPrune } from './cache-plan.js';

/** Directories of the cache root that hold no entries (downloaded .debs, the SSH key, disk hashes): never pruned as such. */
export const NOT_ENTRIES: readonly string[] = ['apt-archives', 'keys', 'hashes'];

/** A scan with, per entry and stale directory (by id or path), its files by inode. */
export interface CacheContents extends CacheScan {
  root: string;
  inodes: ReadonlyMap<string, InodeTable>;
  /** Bytes of each NOT_ENTRIES directory present. */
  others: ReadonlyMap<string, number>;
}

export async function scanCache(root: string = cacheRoot()): Promise<CacheContents> {
  const openFiles = await openFilesUnder(root);
  const entries: ScannedEntry[] = [];
  const staleDirs: StaleDir[] = [];
  const inodes = new Map<string, InodeTable>();
  const others = new Map<string, number>();
  for (const kind of await subdirectories(root)) {
    const kindDir = path.join(root, kind);
    if (NOT_ENTRIES.includes(kind)) {
      others.set(kind, sumBytes((await walk(kindDir)).table));
      continue;
    }
    for (const name of await subdirectories(kindDir)) {
      const dir = path.join(kindDir, name);
      const half = /\.(?:building|pruning)-(\d+)$/.exec(name);
      if (half) {
        const pid = Number(half[1]);
        if (isRunning(pid)) continue;
        const { table } = await walk(dir);
        inodes.set(dir, table);
        staleDirs.push({ path: dir, kind, pid, bytes: sumBytes(table) });
        continue;
      }
      if (!existsSync(path.join(dir, RESULT_FILE))) continue; // not an entry: a cached() rebuild replaces it
      const { table, qcow2s } = await walk(dir);
      const id = `${kind}/${name}`;
      inodes.set(id, table);
      const [lastUsedMs, busy, links] = await Promise.all([lastUse(dir), lockHolder(dir), entryLinks(root, dir, qcow2s)]);
      const opener = [...openFiles].find(([file]) => file.startsWith(`${dir}/`))?.[1];
      entries.push({
        kind, key: name, bytes: sumBytes(table), lastUsedMs,
        ...(busy !== undefined ? { busy: `locked by pid ${busy || '?'}` } : opener !== undefined ? { busy: `open in pid ${opener}` } : {}),
        needs: links.needs.filter((need) => need !== id),
        ...(links.broken ? { broken: links.broken } : {}),
      });
    }
  }
  return { root, entries, staleDirs, memos: await hashMemos(root), inodes, others };
}

export interface PruneOptions {
  /** @default cacheRoot() */
  root?: string;
  /** @default DEFAULT_POLICY */
  policy?: PrunePolicy;
  /** Plan and report, delete nothing. @default false */
  dryRun?: boolean;
  /** @default Date.now() */
  now?: number;
}

export interface PruneReport {
  plan: PrunePlan;
  /** What was removed (with dryRun: what would be), entry ids and paths. */
  removed: Array<{ what: string; bytes: number; reason: string }>;
  /** Planned but left: used or locked since the scan. */
  skipped: Array<{ what: string; reason: string }>;
  errors: Array<{ what: string; message: string }>;
  /** Bytes given back (with dryRun: that would be), hard links counted once (cache-plan freedBytes). */
  freedBytes: number;
}

/** Prune the cache by `policy`. Failures to remove one entry are reported, not thrown. */
export async function pruneCache(options: PruneOptions = {}): Promise<PruneReport> {
  const { root = cacheRoot(), policy = DEFAULT_POLICY, dryRun = false, now = Date.now() } = options;
  const contents = await scanCache(root);
  const plan = planPrune(contents, policy, now);
  const report: PruneReport = { plan, removed: [], skipped: [], errors: [], freedBytes: 0 };
  const freed: InodeTable[] = [];
  const attempt = async (what: string, table: InodeTable | undefined, bytes: number, reason: string, remove: () => Promise<string | undefined>) => {
    try {
      const skipped = dryRun ? undefined : await remove();
      if (skipped) report.skipped.push({ what, reason: skipped });
      else {
        report.removed.push({ what, bytes, reason });
        if (table) freed.push(table);
      }
    } catch (error) {
      report.errors.push({ what, message: error instanceof Error ? error.message : String(error) });
    }
  };
  for (const { entry, reason } of plan.remove) {
    const id = entryId(entry);
    await attempt(id, contents.inodes.get(id), entry.bytes, reason, () => removeEntry(path.join(root, entry.kind, entry.key), entry.lastUsedMs));
  }
  for (const dir of plan.staleDirs) {
    await attempt(path.relative(root, dir.path), contents.inodes.get(dir.path), dir.bytes, dir.reason, async () => {
      if (isRunning(dir.pid)) return `pid ${dir.pid} runs again`;
      await removeTree(dir.path);
      return undefined;
    });
  }
  const removedIds = new Set(report.removed.map((r) => r.what));
  for (const memo of plan.memos) {
    // A memo whose disk removal was skipped stays with it.
    if (memo.diskExists && memo.diskEntry && !removedIds.has(memo.diskEntry)) continue;
    await attempt(path.relative(root, memo.file), undefined, 0, memo.reason, async () => {
      await rm(memo.file, { force: true });
      return undefined;
    });
  }
  report.freedBytes = freedBytes(freed);
  return report;
}

/**
 * Remove one entry unless it is used meanwhile: under its lock (no build, no other pruner), check its
 * stamp is still the one planned on, rename it away and check again (a hit stamps before it reads, so
 * a hit racing the rename is seen and the entry is put back), then delete the renamed directory.
 */
export async function removeEntry(dir: string, plannedLastUsedMs: number): Promise<string | undefined> {
  const lock = await tryLockEntry(dir, path.basename(dir));
  if ('holder' in lock) return `locked by pid ${lock.holder || '?'}`;
  const away = `${dir}.pruning-${process.pid}`;
  try {
    if ((await lastUse(dir)) !== plannedLastUsedMs) return 'used since the scan';
    await rename(dir, away);
    if ((await lastUse(away)) !== plannedLastUsedMs) {
      await rename(away, dir);
      return 'used since the scan';
    }
  } finally {
    await lock.release();
  }
  await removeTree(away);
  return undefined;
}

/** Its last-used stamp's mtime, else its result.json's (entries from before stamps). */
async function lastUse(dir: string): Promise<number> {
  const stamp = await stat(path.join(dir, LAST_USED_FILE)).catch(() => undefined);
  return (stamp ?? (await stat(path.join(dir, RESULT_FILE)))).mtimeMs;
}

/** The pid holding `<dir>.lock` if it is alive (0: being written this instant); undefined when free or stale. */
async function lockHolder(dir: string): Promise<number | undefined> {
  const text = await readFile(`${dir}.lock`, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  const pid = Number(text.trim());
  if (!Number.isInteger(pid) || pid <= 0) return 0;
  return isRunning(pid) ? pid : undefined;
}

/**
 * The other entries an entry refers to: paths into them in its result.json, and the backing files of
 * its qcow2 images (a saved state's overlay is backed by its disk). A backing file that is gone breaks it.
 */
async function entryLinks(root: string, dir: string, qcow2s: readonly string[]): Promise<{ needs: string[]; broken?: string }> {
  const needs = new Set<string>();
  const result = await readFile(path.join(dir, RESULT_FILE), 'utf8');
  const prefix = `${root}/`;
  for (let at = result.indexOf(prefix); at >= 0; at = result.indexOf(prefix, at + 1)) {
    const id = entryOf(root, result.slice(at, at + 1000).split('"')[0] ?? '');
    if (id) needs.add(id);
  }
  let broken: string | undefined;
  for (const file of qcow2s) {
    const backing = await qcow2Backing(file);
    if (backing === undefined) continue;
    const absolute = path.resolve(path.dirname(file), backing);
    const id = entryOf(root, absolute);
    if (id) needs.add(id);
    if (!existsSync(absolute)) broken = `${path.relative(dir, file)} is backed by ${absolute}, which is gone`;
  }
  return { needs: [...needs], ...(broken ? { broken } : {}) };
}

/** `kind/key` of the entry a path lies in, or undefined when outside the entries of `root`. */
function entryOf(root: string, file: string): string | undefined {
  const [kind, key] = path.relative(root, file).split(path.sep);
  if (!kind || !key || kind.startsWith('..') || NOT_ENTRIES.includes(kind) || /\.(?:building-|pruning-|lock$)/.test(key)) return undefined;
  return `${kind}/${key}`;
}

/** The backing file a qcow2 names in its header (big-endian offset at byte 8, length at 16), if any. */
export async function qcow2Backing(file: string): Promise<string | undefined> {
  const handle = await open(file, 'r');
  try {
    const header = Buffer.alloc(20);
    const { bytesRead } = await handle.read(header, 0, 20, 0);
    if (bytesRead < 20 || header.readUInt32BE(0) !== 0x514649fb) return undefined; // 'QFI\xfb'
    const offset = Number(header.readBigUInt64BE(8));
    const length = header.readUInt32BE(16);
    if (offset === 0 || length === 0 || length > 4096) return undefined;
    const name = Buffer.alloc(length);
    await handle.read(name, 0, length, offset);
    return name.toString('utf8');
  } finally {
    await handle.close();
  }
}

/** Every file under `root` some process other than this one has open, with one such pid. */
async function openFilesUnder(root: string): Promise<Map<string, number>> {
  const files = new Map<string, number>();
  const pids = (await readdir('/proc').catch(() => [])).filter((name) => /^\d+$/.test(name)).map(Number);
  for (const pid of pids) {
    if (pid === process.pid) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => []); // gone, or not ours to read
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (target.startsWith(`${root}/`)) files.set(target.replace(/ \(deleted\)$/, ''), pid);
    }
  }
  return files;
}

/** The remembered disk hashes and whether their disks are still there. */
async function hashMemos(root: string): Promise<HashMemo[]> {
  const dir = path.join(root, 'hashes');
  const memos: HashMemo[] = [];
  for (const name of (await readdir(dir).catch(() => [])).filter((n) => n.endsWith('.json'))) {
    const file = path.join(dir, name);
    let disk: string | undefined;
    try {
      const { identity } = JSON.parse(await readFile(file, 'utf8')) as { identity?: string };
      disk = (JSON.parse(identity ?? '{}') as { abs?: string }).abs;
    } catch {
      disk = undefined; // unreadable: rememberedSha256 would recompute it anyway
    }
    if (!disk) continue;
    const diskEntry = entryOf(root, disk);
    memos.push({ file, disk, ...(diskEntry ? { diskEntry } : {}), diskExists: existsSync(disk) });
  }
  return memos;
}

async function subdirectories(dir: string): Promise<string[]> {
  return (await readdir(dir, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Every inode below `dir` (itself included) and its qcow2 files. Files vanishing meanwhile are skipped. */
async function walk(dir: string): Promise<{ table: Map<string, { bytes: number; nlink: number; links: number }>; qcow2s: string[] }> {
  const table = new Map<string, { bytes: number; nlink: number; links: number }>();
  const qcow2s: string[] = [];
  const visit = async (p: string): Promise<void> => {
    const st = await lstat(p).catch(() => undefined);
    if (!st) return;
    const inode = `${st.dev}:${st.ino}`;
    const seen = table.get(inode);
    // A directory's link count counts its subdirectories' `..`: it goes with the tree, whole.
    table.set(inode, { bytes: st.blocks * 512, nlink: st.isDirectory() ? 1 : st.nlink, links: (seen?.links ?? 0) + 1 });
    if (st.isDirectory()) {
      await Promise.all((await readdir(p).catch(() => [])).map((name) => visit(path.join(p, name))));
    } else if (st.isFile() && p.endsWith('.qcow2')) qcow2s.push(p);
  };
  await visit(dir);
  return { table, qcow2s };
}

function sumBytes(table: InodeTable): number {
  let bytes = 0;
  for (const file of table.values()) bytes += file.bytes;
  return bytes;
}

/** One line for the end of a run: `cache: removed 3 entries (disk 2, saved-state 1), freed 2.2 GiB`. */
export function formatPruneSummary(report: PruneReport, dryRun = false): string {
  const kinds = new Map<string, number>();
  for (const { what } of report.removed) {
    const kind = what.split('/')[0] ?? what;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  }
  const problems = [
    ...(report.skipped.length > 0 ? [`${report.skipped.length} left (used or locked meanwhile)`] : []),
    ...(report.errors.length > 0 ? [`${report.errors.length} failed: ${report.errors.map((e) => `${e.what}: ${e.message}`).join('; ')}`] : []),
  ];
  const removed = report.removed.length === 0
    ? (dryRun ? 'would remove nothing' : 'removed nothing')
    : `${dryRun ? 'would remove' : 'removed'} ${report.removed.length} (${[...kinds].map(([kind, n]) => `${kind} ${n}`).join(', ')}), ${dryRun ? 'freeing' : 'freed'} ${formatBytes(report.freedBytes)}`;
  return [`cache: ${removed}`, ...problems].join('; ');
}

export interface KindSummary {
  kind: string;
  entries: number;
  /** Bytes of the kind's entries, hard links counted once. */
  bytes: number;
  newestUseMs?: number;
  oldestUseMs?: number;
  /** Entries the plan removes. */
  prunable: number;
}

/** Per kind (entries' kinds, then the NOT_ENTRIES directories with their bytes), for `npm run cache`. */
export function summarizeKinds(contents: CacheContents, plan: PrunePlan): KindSummary[] {
  const removed = new Set(plan.remove.map((d) => entryId(d.entry)));
  const kinds = [...new Set(contents.entries.map((e) => e.kind))].sort();
  const rows = kinds.map((kind): KindSummary => {
    const entries = contents.entries.filter((e) => e.kind === kind);
    const union = new Map<string, { bytes: number; nlink: number; links: number }>();
    for (const entry of entries) for (const [inode, file] of contents.inodes.get(entryId(entry)) ?? []) union.set(inode, file);
    const uses = entries.map((e) => e.lastUsedMs);
    return {
      kind, entries: entries.length, bytes: sumBytes(union),
      newestUseMs: Math.max(...uses), oldestUseMs: Math.min(...uses),
      prunable: entries.filter((e) => removed.has(entryId(e))).length,
    };
  });
  for (const [kind, bytes] of contents.others) rows.push({ kind, entries: 0, bytes, prunable: 0 });
  return rows;
}

/** Bytes of every entry and half-built directory, hard links counted once (kinds share them: rootfs and debian). */
export function entriesBytes(contents: CacheContents): number {
  const union = new Map<string, { bytes: number; nlink: number; links: number }>();
  for (const table of contents.inodes.values()) for (const [inode, file] of table) union.set(inode, file);
  return sumBytes(union);
}
