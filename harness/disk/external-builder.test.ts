import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { OciImage } from '../oci/types.js';
import { ExternalDiskBuilder } from './external-builder.js';
import { DEFAULT_DISK_OPTIONS } from './types.js';

const image: OciImage = {
  dir: '/images/refos',
  tag: 'base',
  manifest: { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'c', digest: `sha256:${'c'.repeat(64)}`, size: 2 }, layers: [{ mediaType: 'l', digest: `sha256:${'a'.repeat(64)}`, size: 1 }] },
  manifestBytes: Buffer.from('{}'),
  manifestDigest: `sha256:${'d'.repeat(64)}`,
  config: { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } },
  configDigest: `sha256:${'c'.repeat(64)}`,
};

describe('ExternalDiskBuilder', () => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'external-builder-'));
  afterAll(() => rmSync(work, { recursive: true, force: true }));
  const request = (outDir: string) => ({ image, imageReference: 'docker://example/refos:base', options: DEFAULT_DISK_OPTIONS, clientPublicKey: 'ssh-ed25519 AAAA test', outDir });

  it('hands the command the image, output dir, keys and options, and takes its disk and boot spec', async () => {
    const out = mkdtempSync(path.join(work, 'ok-'));
    // A stand-in builder: records what it was given, writes a tiny qcow2 and a direct-boot spec.
    const command = [
      'qemu-img create -q -f qcow2 "$LAYERCHECK_OUT/disk.qcow2" 1M',
      'printf \'{"kernel":"/k","cmdline":"root=LABEL=x %s"}\' "$LAYERCHECK_IMAGE" > "$LAYERCHECK_OUT/boot.json"',
      'test -s "$LAYERCHECK_HOST_KEY" && test -n "$LAYERCHECK_SSH_PUBKEY"',
      'test "$LAYERCHECK_OPTIONS" = \'{"layerRefs":"keep","mergedRef":"drop","origin":"ostree","deployedCommit":"merged"}\'',
    ].join(' && ');
    const disk = await new ExternalDiskBuilder(command).build(request(out));
    expect(disk.qcow2).toBe(path.join(out, 'disk.qcow2'));
    expect(disk.boot).toEqual({ kind: 'direct', kernel: '/k', cmdline: 'root=LABEL=x oci:/images/refos:base' });
    expect(disk.hostKey).toMatch(/^ssh-ed25519 /);
    expect(disk.image.layers).toEqual([`sha256:${'a'.repeat(64)}`]);
    expect(disk.qcow2Bytes).toBeGreaterThan(0);
  });

  it('boots through firmware when the builder writes no boot spec', async () => {
    const out = mkdtempSync(path.join(work, 'fw-'));
    const disk = await new ExternalDiskBuilder('qemu-img create -q -f qcow2 "$LAYERCHECK_OUT/disk.qcow2" 1M').build(request(out));
    expect(disk.boot).toEqual({ kind: 'firmware', firmware: 'bios' });
  });

  it('fails with the exit code and the end of its output', async () => {
    const out = mkdtempSync(path.join(work, 'bad-'));
    await expect(new ExternalDiskBuilder('echo building; echo "no space left" >&2; exit 3').build(request(out))).rejects.toThrow(
      /disk builder `.*` exited 3; its output ends with:\nbuilding\nno space left/,
    );
  });

  it('fails when the command succeeds without writing a disk', async () => {
    const out = mkdtempSync(path.join(work, 'none-'));
    await expect(new ExternalDiskBuilder('true').build(request(out))).rejects.toThrow(/wrote no .*disk\.qcow2/);
  });
});
