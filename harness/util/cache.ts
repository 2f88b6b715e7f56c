import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { isRunning } from './ancestors.js';
import { LayercheckError } from './errors.js';
import { log } from './log.js';
import { waitUntil } from './wait.js';

/** The one directory everything expensive is cached in. `E2E_CACHE_DIR` overrides. @default ~/.cache/layercheck */
export function cacheRoot(): string {
  return process.env.E2E_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'layercheck');
}

/** `tree` hashes every file below it (names and contents) except paths starting with an `exclude` entry. */
export type HashInput = string | Buffer | { file: string } | { tree: string; exclude?: readonly string[] };

/** sha256 over the inputs, each framed by its kind and length so that no two lists collide. */
export async function hashInputs(inputs: readonly HashInput[]): Promise<string> {
  const h = createHash('sha256');
  const add = (kind: string, data: Buffer | string) => {
    const buf = Buffer.from(data);
    h.update(`${kind}:${buf.length}:`).update(buf);
  };
  for (const input of inputs) {
    if (typeof input === 'string' || Buffer.isBuffer(input)) add('v', input);
    else if ('file' in input) add('f', await readFile(input.file));
    else {
      for (const file of await listFiles(input.tree)) {
        const rel = path.relative(input.tree, file);
        if (input.exclude?.some((prefix) => rel === prefix || rel.startsWith(`${prefix}/`))) continue;
        add(`t:${rel}`, await readFile(file));
      }
    }
  }
  return h.digest('hex').slice(0, 24);
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(p)));
    else out.push(p);
  }
  return out;
}

export interface CacheEntry<T> {
  dir: string;
  value: T;
  hit: boolean;
}

/**
 * Return the cached result of `build` for (`kind`, `key`), or build it. `build` writes into a fresh
 * directory that becomes the entry only when it succeeds (its JSON result is stored beside), so an
 * interrupted build never leaves a half entry that a later run trusts. Concurrent runs (parallel test
 * files, several agents) build an entry once: the others wait on its lock file and then read it, and an
 * entry once made is never replaced (machines may be using its files).
 */
export async function cached<T>(kind: string, key: string, build: (dir: string) => Promise<T>): Promise<CacheEntry<T>> {
  const dir = path.join(cacheRoot(), kind, key);
  const hit = await readEntry<T>(dir);
  if (hit) return hit;
  await mkdir(path.dirname(dir), { recursive: true });
  const release = await lockEntry(dir, `${kind}/${key}`);
  try {
    const built = await readEntry<T>(dir); // another run finished it while we waited
    if (built) return built;
    const building = `${dir}.building-${process.pid}`;
    await removeTree(building);
    await mkdir(building, { recursive: true });
    const value = await build(building);
    // Results name files inside the building directory; store them relative to the final one.
    const json = JSON.stringify(value, null, 2).split(building).join(dir);
    await writeFile(path.join(building, RESULT_FILE), json);
    await stampUse(building);
    await removeTree(dir); // a directory without result.json is no entry (left by an older harness)
    await rename(building, dir);
    log('host', `cached ${kind}/${key}`);
    return { dir, value: JSON.parse(json) as T, hit: false };
  } finally {
    await release();
  }
}

/** What makes a directory under `<cache>/<kind>/` an entry: the stored result of its build. */
export const RESULT_FILE = 'result.json';
/**
 * The file whose mtime is an entry's last use (`npm run cache -- prune` keeps recently used entries).
 * Rewritten on every hit and build (atime says nothing on noatime and relatime mounts). Entries made
 * before it existed have none; their result.json's mtime stands in.
 */
export const LAST_USED_FILE = 'last-used';

async function stampUse(dir: string): Promise<void> {
  await writeFile(path.join(dir, LAST_USED_FILE), `${new Date().toISOString()}\n`);
}

async function readEntry<T>(dir: string): Promise<CacheEntry<T> | undefined> {
  const resultFile = path.join(dir, RESULT_FILE);
  if (!existsSync(resultFile)) return undefined;
  // Stamp first, then read: an entry pruned in between is a miss (the stamp or the read finds it gone),
  // and the pruner, which renames an entry away and then looks at its stamp again, sees this use.
  const gone = (error: unknown) => (error as NodeJS.ErrnoException).code === 'ENOENT';
  try {
    await stampUse(dir);
  } catch (error) {
    if (gone(error)) return undefined;
    // A cache we may read but not write (a read-only mount) still serves hits, unstamped.
    if (!['EACCES', 'EPERM', 'EROFS'].includes((error as NodeJS.ErrnoException).code ?? '')) throw error;
  }
  try {
    return { dir, value: JSON.parse(await readFile(resultFile, 'utf8')) as T, hit: true };
  } catch (error) {
    if (gone(error)) return undefined;
    throw error;
  }
}

/** How long a run waits for another one building the same entry (a cold rootfs takes minutes). */
const LOCK_WAIT = '60m';

/**
 * Take `<dir>.lock` (created exclusively, holding our pid); while a live process holds it, wait. A lock
 * whose process is gone (killed mid-build) is taken over. Returns the release function.
 */
export async function lockEntry(dir: string, what: string, options: { quiet?: boolean } = {}): Promise<() => Promise<void>> {
  const lockFile = `${dir}.lock`;
  let announced = false;
  await waitUntil(async () => {
    const attempt = await tryLock(lockFile, what);
    if (attempt.taken) return { done: true, value: undefined };
    if (attempt.holder === undefined) return { done: false, observation: 'the previous holder was gone' };
    if (!announced && !options.quiet) log('host', `${what}: waiting for pid ${attempt.holder || '?'} to finish building it`);
    announced = true;
    return { done: false, observation: `${lockFile} held by pid ${attempt.holder || '?'}` };
  }, { what: `the cache lock ${lockFile}`, timeout: LOCK_WAIT, interval: '500ms', context: { lockFile } });
  return () => rm(lockFile, { force: true });
}

/**
 * Take `<dir>.lock` now or not at all: the release function, or the pid holding it (0 while the
 * holder is still writing its pid). A lock left by a process that is gone is taken over.
 */
export async function tryLockEntry(dir: string, what: string): Promise<{ release: () => Promise<void> } | { holder: number }> {
  const lockFile = `${dir}.lock`;
  for (;;) {
    const attempt = await tryLock(lockFile, what);
    if (attempt.taken) return { release: () => rm(lockFile, { force: true }) };
    if (attempt.holder !== undefined) return { holder: attempt.holder };
  }
}

/** One attempt: taken, or held by `holder`, or (holder undefined) a dead holder's lock was just removed. */
async function tryLock(lockFile: string, what: string): Promise<{ taken: true } | { taken: false; holder?: number }> {
  try {
    const handle = await open(lockFile, 'wx');
    await handle.writeFile(String(process.pid));
    await handle.close();
    return { taken: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const holder = Number((await readFile(lockFile, 'utf8').catch(() => '')).trim());
  // An empty file is a lock being written this instant: only a holder known to be gone is taken over.
  if (Number.isInteger(holder) && holder > 0 && !isRunning(holder)) {
    log('host', `${what}: taking over the lock of pid ${holder}, which is gone`);
    await rm(lockFile, { force: true });
    return { taken: false };
  }
  return { taken: false, holder: Number.isInteger(holder) && holder > 0 ? holder : 0 };
}

/** Bytes a file takes on disk (allocated, not apparent). */
export async function diskUsage(file: string): Promise<number> {
  return (await stat(file)).blocks * 512;
}

/**
 * rm -rf that never deletes through a mount point. An interrupted mmdebstrap leaves /proc, /sys and
 * /dev/pts mounted inside its target: inside one of our own `.building-` directories those are ours
 * and are unmounted first; anywhere else the removal is refused.
 */
export async function removeTree(dir: string): Promise<void> {
  const abs = path.resolve(dir);
  const mounts = await mountsUnder(abs);
  if (mounts.length > 0) {
    if (!/\.building-\d+$/.test(abs)) {
      throw new LayercheckError('E_MOUNTED', `refusing to delete ${abs}: ${mounts.join(', ')} still mounted inside; unmount them (umount -R) and run again`);
    }
    // Deepest first, lazily: nothing of ours still uses them.
    for (const mountPoint of mounts.sort().reverse()) await execa('umount', ['-l', mountPoint], { reject: false });
    const left = await mountsUnder(abs);
    if (left.length > 0) throw new LayercheckError('E_MOUNTED', `could not unmount ${left.join(', ')}; unmount them by hand (umount -R) and run again`);
  }
  await rm(abs, { recursive: true, force: true });
}

async function mountsUnder(abs: string): Promise<string[]> {
  return (await readFile('/proc/self/mountinfo', 'utf8').catch(() => ''))
    .split('\n')
    .map((line) => line.split(' ')[4] ?? '')
    .filter((mountPoint) => mountPoint === abs || mountPoint.startsWith(`${abs}/`));
}

/** sha256 of a file's content, hex, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * sha256 of a large file that rarely changes (a disk), remembered in `<cache>/hashes/` by path, size,
 * inode and mtime, so that each run does not read gigabytes again to compute a cache key.
 */
export async function rememberedSha256(file: string): Promise<string> {
  const abs = path.resolve(file);
  const { size, ino, mtimeMs } = await stat(abs);
  const identity = JSON.stringify({ abs, size, ino, mtimeMs });
  const memo = path.join(cacheRoot(), 'hashes', `${createHash('sha256').update(abs).digest('hex').slice(0, 24)}.json`);
  const known = JSON.parse(await readFile(memo, 'utf8').catch(() => '{}')) as { identity?: string; sha256?: string };
  if (known.identity === identity && known.sha256) return known.sha256;
  const sha256 = await sha256File(abs);
  await mkdir(path.dirname(memo), { recursive: true });
  await writeFile(`${memo}.${process.pid}`, JSON.stringify({ identity, sha256 }));
  await rename(`${memo}.${process.pid}`, memo);
  return sha256;
}
