/**
 * The seed's first claim (coreos-assembler PR 3359): a disk built from a container image keeps one
 * ostree ref per image layer and drops the merged image ref, and the deployed commit still knows
 * which image it came from. The legacy and keep-merged disks (create-disk-variants.e2e.ts) show each
 * assertion can fail. Runs on every target.
 */
import { describe, expect } from 'vitest';
import { scenario, snapshotRefs } from '../harness/testing.js';
import { sha256File } from '../harness/util/index.js';

describe('create-disk', () => {
  scenario('default disk: one layer ref per image layer, no merged image ref', async ({ target, disk, boot, driver, metric }) => {
    const image = await target.image();
    const base = await disk();
    const baseChecksum = await sha256File(base.qcow2);
    const machine = await boot(base, 'create-default');
    const guest = driver(machine);

    const refs = await snapshotRefs(guest.shell, 'booted default disk');
    expect(refs.images).toEqual([]);
    // The booted commit records the manifest it was merged from: its layers are exactly the layer refs.
    const booted = await guest.bootedCommit();
    const digest = await guest.commitMetadata(booted, 'ostree.manifest-digest');
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    const recorded = JSON.parse((await guest.commitMetadata(booted, 'ostree.manifest')) ?? '{}') as { layers?: Array<{ digest: string }> };
    const layers = (recorded.layers ?? []).map((l) => l.digest);
    expect(layers.length).toBeGreaterThan(0);
    expect([...refs.layers].sort()).toEqual([...layers].sort());
    // Where the target knows the image (always for the reference OS), the disk is that image.
    if (image) {
      expect(digest).toBe(image.manifestDigest);
      expect([...layers].sort()).toEqual(image.manifest.layers.map((l) => l.digest).sort());
      metric('image.layers.bytes', image.manifest.layers.reduce((n, l) => n + l.size, 0), 'bytes');
    }

    metric('boot.to_ssh.ms', machine.bootToSshMs ?? Number.NaN, 'ms');
    metric('image.layers.count', layers.length, 'count');
    metric('disk.qcow2.bytes', base.qcow2Bytes, 'bytes');

    // The machine wrote only to its overlay: the base disk is byte for byte what the builder made.
    await machine.dispose();
    expect(await sha256File(base.qcow2)).toBe(baseChecksum);
  });
});
