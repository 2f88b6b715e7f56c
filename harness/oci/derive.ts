import { createCipheriv, createHash } from 'node:crypto';
import { copyFile, link, stat } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { LayercheckError, describeValue } from '../util/errors.js';
import { blobPath, initLayout, writeBlob, writeImage } from './layout.js';
import type { LayerBlob } from './tar-layer.js';
import { compareBytes, parentsOf } from './tree.js';
import { type ImageConfig, MediaType, type OciImage } from './types.js';

/** A file the derived layer adds. */
export interface DeriveFile {
  /** Absolute or relative to the root, e.g. `/usr/bin/tool`; parent directories are added. */
  path: string;
  content: Buffer | string;
  /** Permission bits. @default 0o644 */
  mode?: number;
}

export interface DeriveOptions {
  base: OciImage;
  /** The OCI layout to write into; the base's layer blobs are linked (or copied) in. @default base.dir */
  dir?: string;
  tag: string;
  files: readonly DeriveFile[];
  /** Merged over the base's labels, e.g. `{ 'org.opencontainers.image.version': '2' }`. */
  labels?: Record<string, string>;
  /** `created_by` of the new history entry. @default 'layercheck derive: <paths>' */
  createdBy?: string;
  /** The new layer's file times, in seconds since the epoch. @default 0 */
  mtime?: number;
  /** @default 6 */
  gzipLevel?: number;
}

export interface DerivedImage extends OciImage {
  /** The one layer added on top of the base's (which are reused as they are). */
  layer: LayerBlob;
  baseManifestDigest: string;
}

const DIR_MODE = 0o755;
const FILE_MODE = 0o644;

/**
 * A user's image on top of a base: the base's layers, byte for byte (same digests, blobs reused), plus
 * one gzip layer holding `files` with their parent directories. The tar is written here, not by GNU tar,
 * so owners are 0:0 and times fixed whoever runs it: the same inputs always give the same digests.
 */
export async function deriveImage(options: DeriveOptions): Promise<DerivedImage> {
  const { base, dir = base.dir, tag, files, labels = {}, mtime = 0, gzipLevel = 6 } = options;
  const entries = layerEntries(files);
  const tar = writeTar(entries, mtime);
  const gz = gzipSync(tar, { level: gzipLevel });
  await initLayout(dir);
  if (path.resolve(dir) !== path.resolve(base.dir)) {
    for (const layer of base.manifest.layers) await shareBlob(base.dir, dir, layer.digest);
  }
  const descriptor = await writeBlob(dir, MediaType.layerGzip, gz);
  const layer: LayerBlob = { ...descriptor, diffId: `sha256:${createHash('sha256').update(tar).digest('hex')}` };

  const config = structuredClone(base.config) as ImageConfig;
  const created = config.created ?? '1970-01-01T00:00:00Z';
  config.config = { ...config.config, Labels: { ...config.config?.Labels, ...labels } };
  config.rootfs = { type: 'layers', diff_ids: [...config.rootfs.diff_ids, layer.diffId] };
  const createdBy = options.createdBy ?? `layercheck derive: ${entries.filter((e) => e.data).map((e) => e.name.slice(1)).join(' ')}`;
  config.history = [...(config.history ?? []), { created, created_by: createdBy }];

  const image = await writeImage(dir, tag, config, [...base.manifest.layers, descriptor]);
  return { ...image, layer, baseManifestDigest: base.manifestDigest };
}

/** Hard-link a blob into another layout (copy across file systems); present blobs are kept. */
async function shareBlob(fromDir: string, toDir: string, digest: string): Promise<void> {
  const to = blobPath(toDir, digest);
  if (await stat(to).then(() => true, () => false)) return;
  const from = blobPath(fromDir, digest);
  await link(from, to).catch(() => copyFile(from, to));
}

interface TarEntry {
  /** `./`, `./usr/`, `./usr/bin/tool`. */
  name: string;
  mode: number;
  /** Undefined for a directory. */
  data?: Buffer;
}

/** The root, every parent directory, then the files, in byte order of their paths. */
function layerEntries(files: readonly DeriveFile[]): TarEntry[] {
  const byPath = new Map<string, DeriveFile>();
  for (const file of files) {
    const rel = normalize(file.path);
    if (byPath.has(rel)) throw new LayercheckError('E_BAD_FILE', `\`${rel}\` is given twice`, { path: file.path });
    if (file.mode !== undefined && (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777)) {
      throw new LayercheckError('E_BAD_FILE', `the mode of ${rel} must be permission bits such as 0o755, got ${describeValue(file.mode)}`);
    }
    byPath.set(rel, file);
  }
  const dirs = new Set([...byPath.keys()].flatMap(parentsOf));
  for (const d of dirs) {
    if (byPath.has(d)) throw new LayercheckError('E_BAD_FILE', `\`${d}\` is given as a file but other files lie under it`, { path: d });
  }
  const rels = [...dirs, ...byPath.keys()].sort(compareBytes);
  return [
    { name: './', mode: DIR_MODE },
    ...rels.map((rel): TarEntry => {
      const file = byPath.get(rel);
      return file ? { name: `./${rel}`, mode: file.mode ?? FILE_MODE, data: Buffer.from(file.content) } : { name: `./${rel}/`, mode: DIR_MODE };
    }),
  ];
}

function normalize(p: string): string {
  const rel = p.replace(/^\/+/, '');
  const parts = rel.split('/');
  if (rel === '' || parts.some((part) => part === '' || part === '.' || part === '..') || p.includes('\0')) {
    throw new LayercheckError('E_BAD_FILE', `a derived file needs a plain path such as \`/usr/bin/tool\`, got ${describeValue(p)}`, { path: p });
  }
  return rel;
}

/** A POSIX ustar archive: 512-byte headers, data padded to 512, two zero blocks at the end. */
function writeTar(entries: readonly TarEntry[], mtime: number): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const size = entry.data?.length ?? 0;
    blocks.push(ustarHeader(entry, size, mtime));
    if (entry.data && size > 0) {
      blocks.push(entry.data);
      if (size % 512 !== 0) blocks.push(Buffer.alloc(512 - (size % 512)));
    }
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

function ustarHeader(entry: TarEntry, size: number, mtime: number): Buffer {
  const header = Buffer.alloc(512);
  const { name, prefix } = splitName(entry.name);
  header.write(name, 0, 100, 'utf8');
  octal(header, entry.mode, 100, 8);
  octal(header, 0, 108, 8); // uid
  octal(header, 0, 116, 8); // gid
  octal(header, size, 124, 12);
  octal(header, mtime, 136, 12);
  header.fill(' ', 148, 156); // the checksum counts its own field as spaces
  header.write(entry.data ? '0' : '5', 156, 1, 'ascii');
  header.write('ustar\0', 257, 6, 'ascii');
  header.write('00', 263, 2, 'ascii');
  octal(header, 0, 329, 8); // devmajor
  octal(header, 0, 337, 8); // devminor
  header.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return header;
}

function octal(header: Buffer, value: number, offset: number, length: number): void {
  const digits = Math.trunc(value).toString(8).padStart(length - 1, '0');
  if (digits.length > length - 1) throw new LayercheckError('E_TAR_FIELD', `${value} does not fit a ${length}-byte tar field`);
  header.write(`${digits}\0`, offset, length, 'ascii');
}

/** ustar names: up to 100 bytes, or a prefix of up to 155 bytes and a name, split at a `/`. */
function splitName(full: string): { name: string; prefix: string } {
  if (Buffer.byteLength(full) <= 100) return { name: full, prefix: '' };
  const trimmed = full.endsWith('/') ? full.slice(0, -1) : full;
  for (let i = trimmed.indexOf('/'); i !== -1; i = trimmed.indexOf('/', i + 1)) {
    const prefix = full.slice(0, i);
    const name = full.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100 && name !== '') return { name, prefix };
  }
  throw new LayercheckError('E_BAD_FILE', `the path ${full} is too long for a ustar header`, { path: full });
}

/** Where `payloadFiles` puts its executable. */
export const DERIVED_EXECUTABLE = '/usr/bin/layercheck-derived';
/** Where `payloadFiles` puts its incompressible data. */
export const DERIVED_PAYLOAD = '/usr/share/layercheck/payload.bin';

/** The line `DERIVED_EXECUTABLE` prints for a seed. */
export function derivedLine(seed: string | number): string {
  return `layercheck derived image ${checkSeed(seed)}`;
}

/**
 * A distinctive payload for a derived image: an executable script printing `derivedLine(seed)`, and
 * `sizeBytes` of seeded pseudo-random (incompressible) bytes, so the layer's size on the wire is known
 * in advance and a guest can prove it booted the derived image by running the script.
 */
export function payloadFiles(sizeBytes: number, seed: string | number): DeriveFile[] {
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes < 0) {
    throw new LayercheckError('E_BAD_PAYLOAD', `a payload size must be a non-negative integer number of bytes, got ${describeValue(sizeBytes)}`);
  }
  const data = seededBytes(sizeBytes, String(checkSeed(seed)));
  const script = [
    '#!/bin/sh',
    `# layercheck derived image payload: ${DERIVED_PAYLOAD}, ${sizeBytes} bytes, ${createHash('sha256').update(data).digest('hex')}`,
    `echo '${derivedLine(seed)}'`,
    '',
  ].join('\n');
  return [
    { path: DERIVED_EXECUTABLE, content: script, mode: 0o755 },
    { path: DERIVED_PAYLOAD, content: data, mode: 0o644 },
  ];
}

function checkSeed(seed: string | number): string {
  const text = String(seed);
  if (!/^[A-Za-z0-9._-]{1,64}$/.test(text)) {
    throw new LayercheckError('E_BAD_PAYLOAD', `a payload seed is 1 to 64 letters, digits, \`.\`, \`_\` or \`-\`, got ${describeValue(seed)}`);
  }
  return text;
}

/** AES-256-CTR keystream under a key derived from the seed: fast, deterministic, incompressible. */
function seededBytes(size: number, seed: string): Buffer {
  const key = createHash('sha256').update(`layercheck payload ${seed}`).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]);
}
