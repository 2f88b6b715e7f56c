import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildChunkedImage } from './chunked-image.js';
import { blobPath, readImage, sha256Digest } from './layout.js';

/** A tiny ostree-layout rootfs with a dpkg database, enough to exercise grouping and determinism. */
function makeRootfs(dir: string): void {
  const put = (rel: string, content: string) => {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    writeFileSync(path.join(dir, rel), content);
  };
  put('usr/bin/bash', 'b'.repeat(5000));
  put('usr/lib/x86_64-linux-gnu/libc.so.6', 'c'.repeat(9000));
  put('usr/share/perl/Foo.pm', 'p'.repeat(3000));
  put('usr/etc/hostname', 'refos\n');
  put('usr/lib/modules/6.1.0-1-amd64/vmlinuz', 'k'.repeat(20000));
  const info = 'usr/lib/sysimage/dpkg/info';
  put(`${info}/bash.list`, '/.\n/bin\n/bin/bash\n');
  put(`${info}/libc6:amd64.list`, '/.\n/lib/x86_64-linux-gnu/libc.so.6\n');
  put(`${info}/perl-base.list`, '/usr/share/perl/Foo.pm\n');
  put(`${info}/linux-image-6.1.0-1-amd64.list`, '/boot/vmlinuz-6.1.0-1-amd64\n');
  mkdirSync(path.join(dir, 'var'));
  mkdirSync(path.join(dir, 'sysroot'));
  symlinkSync('usr/bin', path.join(dir, 'bin'));
}

describe('buildChunkedImage', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'chunk-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const rootfs = path.join(work, 'rootfs');
  makeRootfs(rootfs);

  it('groups files by owning package and gives the same digests every time', async () => {
    const a = await buildChunkedImage({ rootfs, dir: path.join(work, 'a'), tag: 'base', maxLayers: 4 });
    const b = await buildChunkedImage({ rootfs, dir: path.join(work, 'b'), tag: 'base', maxLayers: 4 });
    expect(b.manifestDigest).toBe(a.manifestDigest);
    expect(b.manifest.layers.map((l) => l.digest)).toEqual(a.manifest.layers.map((l) => l.digest));
    expect(a.chunks.map((c) => c.components)).toEqual([['linux-image-6.1.0-1-amd64'], ['libc6'], ['bash', 'perl-base'], ['(unpackaged)']]);
  });

  it('writes a valid layout: digests match content, diff_ids match the uncompressed tars', async () => {
    const dir = path.join(work, 'c');
    await buildChunkedImage({ rootfs, dir, tag: 'base', maxLayers: 4 });
    const image = await readImage(dir, 'base');
    expect(sha256Digest(image.manifestBytes)).toBe(image.manifestDigest);
    expect(image.config.rootfs.diff_ids).toHaveLength(image.manifest.layers.length);
    for (const [i, layer] of image.manifest.layers.entries()) {
      const blob = readFileSync(blobPath(dir, layer.digest));
      expect(sha256Digest(blob)).toBe(layer.digest);
      expect(blob.length).toBe(layer.size);
      const tar = execFileSync('gzip', ['-dc'], { input: blob });
      expect(sha256Digest(tar)).toBe(image.config.rootfs.diff_ids[i]);
    }
  });

  it('starts every layer with the root entry and puts files and their parents in it', async () => {
    const dir = path.join(work, 'd');
    const image = await buildChunkedImage({ rootfs, dir, tag: 'base', maxLayers: 4 });
    const list = (i: number) =>
      execFileSync('tar', ['-tzf', blobPath(dir, image.manifest.layers[i]?.digest ?? '')], { encoding: 'utf8' }).trim().split('\n');
    expect(list(0)).toEqual(['./', './usr/', './usr/lib/', './usr/lib/modules/', './usr/lib/modules/6.1.0-1-amd64/', './usr/lib/modules/6.1.0-1-amd64/vmlinuz']);
    // Unowned files, the symlink and directories no file lives under go in the last layer.
    expect(list(3)).toEqual(expect.arrayContaining(['./', './bin', './sysroot/', './usr/etc/hostname', './var/']));
  });
});
