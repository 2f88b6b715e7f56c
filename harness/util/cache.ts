import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { LayercheckError } from './errors.js';
import { log } from './log.js';

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
 * interrupted build never leaves a half entry that a later run trusts.
 */
export async function cached<T>(kind: string, key: string, build: (dir: string) => Promise<T>): Promise<CacheEntry<T>> {
  const dir = path.join(cacheRoot(), kind, key);
  const resultFile = path.join(dir, 'result.json');
  if (existsSync(resultFile)) {
    return { dir, value: JSON.parse(await readFile(resultFile, 'utf8')) as T, hit: true };
  }
  const building = `${dir}.building-${process.pid}`;
  await removeTree(building);
  await mkdir(building, { recursive: true });
  const value = await build(building);
  // Results name files inside the building directory; store them relative to the final one.
  const json = JSON.stringify(value, null, 2).split(building).join(dir);
  await writeFile(path.join(building, 'result.json'), json);
  await removeTree(dir);
  await rename(building, dir);
  log('host', `cached ${kind}/${key}`);
  return { dir, value: JSON.parse(json) as T, hit: false };
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
