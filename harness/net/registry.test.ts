import { existsSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { dir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { initLayout, sha256Digest, writeBlob, writeImage } from '../oci/layout.js';
import { MediaType, type OciImage } from '../oci/types.js';
import { SetupError } from '../util/errors.js';
import { registered } from '../vm/registry.js';
import { httpRequest } from './http-get.js';
import { AccountingProxy } from './proxy.js';
import { Registry, assertRegistryTools } from './registry.js';
import { isRunning } from '../util/ancestors.js';

/** Runs no more: gone, or a zombie nobody waits for. */
const isStopped = async (pid: number): Promise<boolean> => !isRunning(pid);


describe('Registry', () => {
  let temp: { path: string; cleanup: () => Promise<void> };
  let layout: string;
  let image: OciImage;
  let layer: Buffer;
  let registry: Registry | undefined;

  beforeAll(async () => {
    temp = await dir({ unsafeCleanup: true });
    layout = path.join(temp.path, 'oci');
    await initLayout(layout);
    const tar = Buffer.concat([Buffer.from('x'.repeat(1000)), Buffer.alloc(1024)]);
    layer = gzipSync(tar);
    const descriptor = await writeBlob(layout, MediaType.layerGzip, layer);
    image = await writeImage(layout, 'v1', { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [sha256Digest(tar)] } }, [descriptor]);
  });

  afterAll(async () => {
    await registry?.stop(); // kills by pid even when a test failed
    await temp.cleanup();
  });

  test('missing tools give a SetupError with the apt-get line', () => {
    expect(() => assertRegistryTools(() => undefined)).toThrow(SetupError);
    expect(() => assertRegistryTools(() => undefined)).toThrow(/apt-get install -y --no-install-recommends docker-registry skopeo/);
    expect(() => assertRegistryTools((c) => `/usr/bin/${c}`)).not.toThrow();
  });

  test('push keeps digests; pulls through the proxy are counted per blob; corruption keeps sizes; stop leaves nothing', async () => {
    registry = await Registry.start({ name: 'test-registry' });
    const { pid, storageDir } = registry;
    expect(await isStopped(pid)).toBe(false);
    expect(registered().map((r) => r.pid)).toContain(pid);

    const pushed = await registry.push(layout, 'v1', 'refos');
    expect(pushed).toEqual({ name: 'refos', tag: 'v1', reference: `${registry.host}/refos:v1`, manifestDigest: image.manifestDigest });

    await using proxy = await AccountingProxy.start({ upstream: registry.url, name: 'registry-proxy' });
    const accept = { accept: MediaType.manifest };
    const ping = await httpRequest(`${proxy.url}/v2/`);
    expect(ping.status).toBe(200);
    const head = await httpRequest(`${proxy.url}/v2/refos/manifests/v1`, { method: 'HEAD', headers: accept });
    expect(head.headers['docker-content-digest']).toBe(image.manifestDigest);
    const manifest = await httpRequest(`${proxy.url}/v2/refos/manifests/v1`, { headers: accept });
    expect(sha256Digest(manifest.body)).toBe(image.manifestDigest);
    expect(manifest.body.equals(image.manifestBytes)).toBe(true);
    // Without the OCI media type in Accept, distribution 2.8 does not serve an OCI manifest.
    expect((await httpRequest(`${proxy.url}/v2/refos/manifests/v1`)).status).toBe(404);

    const config = await httpRequest(`${proxy.url}/v2/refos/blobs/${image.configDigest}`);
    expect(sha256Digest(config.body)).toBe(image.configDigest);
    const blob = await httpRequest(`${proxy.url}/v2/refos/blobs/${image.manifest.layers[0]?.digest}`);
    expect(blob.status).toBe(200); // filesystem storage serves blobs itself: no redirect
    expect(blob.body.equals(layer)).toBe(true);
    await proxy.idle();

    const records = proxy.records();
    expect(records.map((r) => [r.method, r.status, r.responseBodyBytes])).toEqual([
      ['GET', 200, 2],
      ['HEAD', 200, 0],
      ['GET', 200, image.manifestBytes.length],
      ['GET', 404, records[3]?.responseBodyBytes],
      ['GET', 200, image.manifest.config.size],
      ['GET', 200, layer.length],
    ]);
    expect(records[2]?.manifestRef).toBe('v1');
    expect(proxy.bytesByBlob()).toEqual(new Map([[image.configDigest, image.manifest.config.size], [image.manifest.layers[0]?.digest, layer.length]]));

    // Bad input for the updater: the stored blob changes, its size does not.
    const digest = image.manifest.layers[0]?.digest as string;
    await registry.corruptBlob(digest);
    const corrupt = await httpRequest(`${proxy.url}/v2/refos/blobs/${digest}`);
    expect(corrupt.body.length).toBe(layer.length);
    expect(sha256Digest(corrupt.body)).not.toBe(digest);
    expect(corrupt.headers['docker-content-digest']).toBe(digest);

    // A manifest damaged in storage no longer passes the digest check.
    await registry.corruptBlob(image.manifestDigest);
    await expect(registry.checkManifest('refos', 'v1', image.manifestDigest)).rejects.toMatchObject({ code: 'E_DIGEST_CHANGED' });

    await registry.stop();
    expect(await isStopped(pid)).toBe(true);
    expect(existsSync(storageDir)).toBe(false);
    expect(registered().map((r) => r.pid)).not.toContain(pid);
    await registry.stop(); // idempotent
  }, 60_000);

  test('refuses names skopeo would misread', async () => {
    await using reg = await Registry.start({ name: 'test-registry-2' });
    await expect(reg.push('/tmp/a:b', 'v1', 'refos')).rejects.toMatchObject({ code: 'E_BAD_PATH' });
    await expect(reg.push(layout, 'v1', 'RefOS')).rejects.toMatchObject({ code: 'E_BAD_NAME' });
    await expect(reg.push(layout, 'no tag', 'refos')).rejects.toMatchObject({ code: 'E_BAD_TAG' });
    await expect(reg.push(layout, 'missing', 'refos')).rejects.toMatchObject({ code: 'E_BAD_IMAGE' });
  }, 30_000);
});
