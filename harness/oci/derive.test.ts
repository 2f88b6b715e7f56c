import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { DERIVED_EXECUTABLE, DERIVED_PAYLOAD, deriveImage, derivedLine, payloadFiles } from './derive.js';
import { blobPath, initLayout, readImage, sha256Digest, writeBlob, writeImage } from './layout.js';
import { MediaType, type OciImage } from './types.js';

const work = mkdtempSync(path.join(os.tmpdir(), 'derive-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A base image of two small layers, like a chunked image. */
async function makeBase(dir: string): Promise<OciImage> {
  await initLayout(dir);
  const tars = ['a', 'b'].map((name) => Buffer.concat([Buffer.from(name.repeat(512)), Buffer.alloc(1024)]));
  const layers = await Promise.all(tars.map((tar) => writeBlob(dir, MediaType.layerGzip, gzipSync(tar))));
  return writeImage(dir, 'base', {
    created: '2024-01-02T03:04:05Z',
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'ostree.bootable': 'true', 'org.opencontainers.image.version': '1' } },
    rootfs: { type: 'layers', diff_ids: tars.map((tar) => sha256Digest(tar)) },
    history: [{ created_by: 'chunk 1' }, { created_by: 'chunk 2' }],
  }, layers);
}

const files = [
  { path: '/usr/share/doc/note.txt', content: 'hello\n' },
  { path: 'usr/bin/tool', content: '#!/bin/sh\necho tool\n', mode: 0o755 },
  { path: '/usr/lib/empty', content: Buffer.alloc(0) },
];

describe('deriveImage', () => {
  it('keeps the base layers byte for byte and adds one layer, config and labels updated', async () => {
    const dir = path.join(work, 'same');
    const base = await makeBase(dir);
    const derived = await deriveImage({ base, tag: 'derived', files, labels: { 'org.opencontainers.image.version': '2' } });

    expect(derived.manifest.layers.slice(0, 2)).toEqual(base.manifest.layers);
    expect(derived.manifest.layers).toHaveLength(3);
    expect(derived.manifest.layers[2]).toEqual({ mediaType: MediaType.layerGzip, digest: derived.layer.digest, size: derived.layer.size });
    expect(derived.config.rootfs.diff_ids).toEqual([...base.config.rootfs.diff_ids, derived.layer.diffId]);
    expect(derived.config.config?.Labels).toEqual({ 'ostree.bootable': 'true', 'org.opencontainers.image.version': '2' });
    expect(derived.config.history?.at(-1)).toEqual({ created: '2024-01-02T03:04:05Z', created_by: 'layercheck derive: /usr/bin/tool /usr/lib/empty /usr/share/doc/note.txt' });
    expect(derived.baseManifestDigest).toBe(base.manifestDigest);

    // Both tags live in the one layout, and what is stored is what was returned.
    expect((await readImage(dir, 'base')).manifestDigest).toBe(base.manifestDigest);
    const read = await readImage(dir, 'derived');
    expect(read.manifestDigest).toBe(derived.manifestDigest);
    const blob = readFileSync(blobPath(dir, derived.layer.digest));
    expect(sha256Digest(blob)).toBe(derived.layer.digest);
    expect(blob.length).toBe(derived.layer.size);
    expect(sha256Digest(gunzipSync(blob))).toBe(derived.layer.diffId);
  });

  it('writes a tar GNU tar reads: root first, parents, owners 0:0, fixed time, modes', async () => {
    const dir = path.join(work, 'tar');
    const derived = await deriveImage({ base: await makeBase(dir), tag: 'derived', files });
    const layer = blobPath(dir, derived.layer.digest);
    expect(execFileSync('tar', ['-tzf', layer], { encoding: 'utf8' }).trim().split('\n')).toEqual([
      './', './usr/', './usr/bin/', './usr/bin/tool', './usr/lib/', './usr/lib/empty', './usr/share/', './usr/share/doc/', './usr/share/doc/note.txt',
    ]);
    const verbose = execFileSync('tar', ['--numeric-owner', '--full-time', '-tvzf', layer], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    expect(verbose).toMatch(/^-rwxr-xr-x 0\/0 +20 1970-01-01 00:00:00 \.\/usr\/bin\/tool$/m);
    expect(verbose).toMatch(/^-rw-r--r-- 0\/0 +6 1970-01-01 00:00:00 \.\/usr\/share\/doc\/note\.txt$/m);
    expect(verbose).toMatch(/^drwxr-xr-x 0\/0 +0 1970-01-01 00:00:00 \.\/usr\/bin\/$/m);
    const out = path.join(work, 'tar-out');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xzf', layer, '-C', out]);
    expect(readFileSync(path.join(out, 'usr/share/doc/note.txt'), 'utf8')).toBe('hello\n');
    expect(statSync(path.join(out, 'usr/bin/tool')).mode & 0o777).toBe(0o755);
  });

  it('gives identical digests for identical inputs, and a new layout gets the base blobs', async () => {
    const baseA = await makeBase(path.join(work, 'det-a'));
    const baseB = await makeBase(path.join(work, 'det-b'));
    const a = await deriveImage({ base: baseA, tag: 'derived', files: payloadFiles(100_000, 7) });
    const b = await deriveImage({ base: baseB, tag: 'derived', files: payloadFiles(100_000, 7) });
    expect(b.manifestDigest).toBe(a.manifestDigest);
    expect(b.layer).toEqual(a.layer);

    const other = path.join(work, 'det-other');
    const c = await deriveImage({ base: baseA, dir: other, tag: 'derived', files: payloadFiles(100_000, 7) });
    expect(c.manifestDigest).toBe(a.manifestDigest);
    expect(c.dir).toBe(other);
    for (const layer of c.manifest.layers) expect(existsSync(blobPath(other, layer.digest))).toBe(true);
    expect((await readImage(other, 'derived')).manifestDigest).toBe(a.manifestDigest);
  });

  it('refuses bad paths', async () => {
    const base = await makeBase(path.join(work, 'bad'));
    for (const bad of ['', '/', 'usr/../etc/x', 'usr//x', './x']) {
      await expect(deriveImage({ base, tag: 'x', files: [{ path: bad, content: '' }] })).rejects.toThrow(/plain path/);
    }
    await expect(deriveImage({ base, tag: 'x', files: [{ path: '/a', content: '' }, { path: 'a', content: '' }] })).rejects.toThrow(/twice/);
    await expect(deriveImage({ base, tag: 'x', files: [{ path: '/a', content: '' }, { path: '/a/b', content: '' }] })).rejects.toThrow(/other files lie under it/);
  });
});

describe('payloadFiles', () => {
  it('is a script printing the seed line and a seeded, incompressible data file of the given size', () => {
    const [script, data] = payloadFiles(3 * 1024 * 1024, 'v2');
    expect(script?.path).toBe(DERIVED_EXECUTABLE);
    expect(script?.mode).toBe(0o755);
    expect(derivedLine('v2')).toBe('layercheck derived image v2');
    expect(execFileSync('sh', ['-c', String(script?.content)], { encoding: 'utf8' })).toBe('layercheck derived image v2\n');
    expect(data?.path).toBe(DERIVED_PAYLOAD);
    const bytes = data?.content as Buffer;
    expect(bytes.length).toBe(3 * 1024 * 1024);
    expect(gzipSync(bytes).length).toBeGreaterThan(bytes.length);
    expect((payloadFiles(3 * 1024 * 1024, 'v2')[1]?.content as Buffer).equals(bytes)).toBe(true);
    expect((payloadFiles(3 * 1024 * 1024, 'v3')[1]?.content as Buffer).equals(bytes)).toBe(false);
  });

  it('refuses seeds that would need quoting and bad sizes', () => {
    expect(() => payloadFiles(10, "it's")).toThrow(/seed/);
    expect(() => payloadFiles(-1, 'a')).toThrow(/size/);
  });
});
