import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { execa } from 'execa';
import { blobPath } from './layout.js';
import { type Descriptor, MediaType } from './types.js';

export interface LayerBlob extends Descriptor {
  /** sha256 of the uncompressed tar, as listed in the config's `rootfs.diff_ids`. */
  diffId: string;
}

function hashing(hash: ReturnType<typeof createHash>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
}

/**
 * Write `entries` of `rootfs` as one gzip layer blob into the layout at `dir`. GNU tar archives exactly
 * the listed paths (no recursion) with numeric owners and a fixed mtime, and zlib writes a header
 * without name or time, so the same tree always gives the same digests.
 */
export async function writeTarLayer(dir: string, rootfs: string, entries: readonly string[], gzipLevel = 6): Promise<LayerBlob> {
  const tar = execa('tar', ['--create', '--file=-', `--directory=${rootfs}`, '--no-recursion', '--null', '--files-from=-',
    '--numeric-owner', '--format=gnu', '--mtime=@0', '--sort=none'], {
    input: entries.map((e) => (e === '.' ? './' : `./${e}`)).join('\0'),
    encoding: 'buffer',
    buffer: { stdout: false, stderr: true },
    stripFinalNewline: false,
  });
  const diffHash = createHash('sha256');
  const blobHash = createHash('sha256');
  let size = 0;
  const tmp = `${dir}/blobs/sha256/.layer-${process.pid}-${Math.random().toString(36).slice(2)}.tmp`;
  const counting = new Transform({
    transform(chunk: Buffer, _enc, done) {
      blobHash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await Promise.all([
    pipeline(tar.stdout, hashing(diffHash), createGzip({ level: gzipLevel }), counting, createWriteStream(tmp)),
    tar,
  ]);
  const digest = `sha256:${blobHash.digest('hex')}`;
  await rename(tmp, blobPath(dir, digest));
  return { mediaType: MediaType.layerGzip, digest, size, diffId: `sha256:${diffHash.digest('hex')}` };
}
