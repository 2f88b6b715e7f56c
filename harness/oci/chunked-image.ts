import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { type Chunk, type ChunkInput, UNPACKAGED, planChunks } from './chunk-plan.js';
import { readPackageFiles } from './dpkg.js';
import { initLayout, writeImage } from './layout.js';
import { type LayerBlob, writeTarLayer } from './tar-layer.js';
import { compareBytes, parentsOf, walkTree } from './tree.js';
import type { ImageConfig, OciImage } from './types.js';

export interface ChunkedImageOptions {
  /** An ostree-ready rootfs (see fixtures/reference-os/hooks/ostreeify.sh) with its dpkg database. */
  rootfs: string;
  /** OCI layout directory to write into (created if missing). */
  dir: string;
  tag: string;
  /** @default 12 */
  maxLayers?: number;
  /** The image's `created` time; fixed so digests depend on content only. @default '1970-01-01T00:00:00Z' */
  created?: string;
  labels?: Record<string, string>;
  /** Layers compressed at once. @default 2 */
  concurrency?: number;
}

export interface ChunkedImage extends OciImage {
  chunks: Array<{ components: string[]; digest: string; size: number; files: number }>;
}

/**
 * Turn a rootfs into a chunked OCI image: files grouped into layers by the Debian package that owns
 * them, as rpm-ostree's chunked images group by RPM. The result is what a real bootable container
 * image looks like to a disk builder: many layers, each a plain tar of part of the tree.
 */
export async function buildChunkedImage(options: ChunkedImageOptions): Promise<ChunkedImage> {
  const { rootfs, dir, tag, maxLayers = 12, created = '1970-01-01T00:00:00Z', labels = {}, concurrency = 2 } = options;
  const tree = await walkTree(rootfs);
  const kernels = await readdir(path.join(rootfs, 'usr/lib/modules')).catch(() => [] as string[]);
  const owned = await readPackageFiles(rootfs, kernels[0]);

  const byPath = new Map(tree.map((e) => [e.rel, e]));
  const claimed = new Set<string>();
  const packages: ChunkInput[] = [];
  for (const [name, files] of owned) {
    const present = files.filter((f) => byPath.get(f)?.isDir === false && !claimed.has(f));
    present.forEach((f) => claimed.add(f));
    packages.push({ name, files: present, size: present.reduce((n, f) => n + (byPath.get(f)?.size ?? 0), 0) });
  }
  const loose = tree.filter((e) => !e.isDir && !claimed.has(e.rel));
  const unpackaged = { name: UNPACKAGED, files: loose.map((e) => e.rel), size: loose.reduce((n, e) => n + e.size, 0) };
  const chunks = planChunks(packages, unpackaged, maxLayers);

  const lists = chunks.map(entriesOf);
  // Directories no file lives under (/var, /sysroot, /proc, ...) still belong in the image: last layer.
  const covered = new Set(lists.flat());
  const emptyDirs = tree.filter((e) => e.isDir && !covered.has(e.rel)).map((e) => e.rel);
  const last = lists[lists.length - 1] as string[];
  lists[lists.length - 1] = sortEntries([...new Set([...last, ...emptyDirs.flatMap((d) => [...parentsOf(d), d])])]);

  await initLayout(dir);
  const blobs: LayerBlob[] = new Array<LayerBlob>(lists.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      while (next < lists.length) {
        const i = next++;
        blobs[i] = await writeTarLayer(dir, rootfs, lists[i] as string[]);
      }
    }),
  );

  const config: ImageConfig = {
    created,
    architecture: 'amd64',
    os: 'linux',
    config: { Labels: { 'ostree.bootable': 'true', 'containers.bootc': '1', ...labels } },
    rootfs: { type: 'layers', diff_ids: blobs.map((b) => b.diffId) },
    history: chunks.map((c, i) => ({ created, created_by: `layercheck chunk ${i + 1}/${chunks.length}: ${c.components.join(' ')}` })),
  };
  const layers = blobs.map(({ diffId: _diffId, ...descriptor }) => descriptor);
  const image = await writeImage(dir, tag, config, layers);
  return {
    ...image,
    chunks: chunks.map((c, i) => ({ components: c.components, digest: (blobs[i] as LayerBlob).digest, size: (blobs[i] as LayerBlob).size, files: c.files.length })),
  };
}

/** The tar member list of a chunk: the root, every parent directory, then the files, in byte order. */
function entriesOf(chunk: Chunk): string[] {
  const set = new Set<string>();
  for (const f of chunk.files) {
    for (const p of parentsOf(f)) set.add(p);
    set.add(f);
  }
  return sortEntries([...set]);
}

function sortEntries(entries: string[]): string[] {
  return ['.', ...entries.filter((e) => e !== '.').sort(compareBytes)];
}
