import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { LayercheckError } from '../util/errors.js';
import { type Descriptor, type ImageConfig, type ImageIndex, type Manifest, MediaType, type OciImage } from './types.js';

const REF_NAME = 'org.opencontainers.image.ref.name';

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** `sha256:<hex>` → `<dir>/blobs/sha256/<hex>`. */
export function blobPath(dir: string, digest: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(digest);
  if (!m) throw new LayercheckError('E_BAD_DIGEST', `not a sha256 digest: \`${digest}\``, { digest });
  return path.join(dir, 'blobs', 'sha256', m[1] as string);
}

export async function initLayout(dir: string): Promise<void> {
  await mkdir(path.join(dir, 'blobs', 'sha256'), { recursive: true });
  await writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
}

/** Store a small JSON-or-bytes blob; returns its descriptor. */
export async function writeBlob(dir: string, mediaType: string, data: Buffer): Promise<Descriptor> {
  const digest = sha256Digest(data);
  const file = blobPath(dir, digest);
  await writeFile(`${file}.tmp`, data);
  await rename(`${file}.tmp`, file);
  return { mediaType, digest, size: data.length };
}

/** Canonical JSON bytes for a blob: stable key order as written, no whitespace. */
export function jsonBytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** Write config + manifest and point `tag` at it in index.json (replacing an older entry of that tag). */
export async function writeImage(dir: string, tag: string, config: ImageConfig, layers: Descriptor[]): Promise<OciImage> {
  const configDesc = await writeBlob(dir, MediaType.config, jsonBytes(config));
  const manifest: Manifest = { schemaVersion: 2, mediaType: MediaType.manifest, config: configDesc, layers };
  const manifestBytes = jsonBytes(manifest);
  const manifestDesc = await writeBlob(dir, MediaType.manifest, manifestBytes);
  const index = await readIndex(dir).catch(() => ({ schemaVersion: 2, mediaType: MediaType.index, manifests: [] }) as ImageIndex);
  index.manifests = index.manifests.filter((m) => m.annotations?.[REF_NAME] !== tag);
  index.manifests.push({ ...manifestDesc, annotations: { [REF_NAME]: tag } });
  await writeFile(path.join(dir, 'index.json'), jsonBytes(index));
  return { dir, tag, manifest, manifestBytes, manifestDigest: manifestDesc.digest, config, configDigest: configDesc.digest };
}

async function readIndex(dir: string): Promise<ImageIndex> {
  return JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as ImageIndex;
}

/** Read the image tagged `tag` from an OCI layout directory. */
export async function readImage(dir: string, tag: string): Promise<OciImage> {
  let index: ImageIndex;
  try {
    index = await readIndex(dir);
  } catch (error) {
    throw new LayercheckError('E_BAD_IMAGE', `${dir} is not an OCI image layout (no readable index.json); build the image first or pass an OCI layout directory`, { dir }, { cause: error });
  }
  const entry = index.manifests.find((m) => m.annotations?.[REF_NAME] === tag);
  if (!entry) {
    const tags = index.manifests.map((m) => m.annotations?.[REF_NAME]).filter(Boolean);
    throw new LayercheckError('E_BAD_IMAGE', `no image tagged \`${tag}\` in ${dir}; it has: ${tags.join(', ') || '(none)'}`, { dir, tag });
  }
  const manifestBytes = await readFile(blobPath(dir, entry.digest));
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as Manifest;
  const config = JSON.parse(await readFile(blobPath(dir, manifest.config.digest), 'utf8')) as ImageConfig;
  return { dir, tag, manifest, manifestBytes, manifestDigest: entry.digest, config, configDigest: manifest.config.digest };
}
