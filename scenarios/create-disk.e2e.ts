/**
 * The seed's first claim (coreos-assembler PR 3359): a disk built from a container image keeps one
 * ostree ref per image layer and drops the merged image ref, and the deployed commit still knows
 * which image it came from. The legacy and keep-merged disks show each assertion can fail.
 * Runs on every target; the two variants need a builder (skipped for a finished E2E_DISK).
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

  scenario('legacy disk (before the seed PR): no layer refs at all', async ({ disk, boot, driver }) => {
    const legacy = await disk({ layerRefs: 'drop' });
    const machine = await boot(legacy, 'create-legacy');
    const guest = driver(machine);

    const refs = await snapshotRefs(guest.shell, 'booted legacy disk');
    expect(refs.layers).toEqual([]);
    expect(refs.images).toEqual([]);
    // The deployed commit is the same merged commit: only the refs differ.
    expect(await guest.commitMetadata(await guest.bootedCommit(), 'ostree.manifest-digest')).toBe(legacy.image?.manifestDigest);
  });

  scenario('keep-merged disk: the merged image ref is there', async ({ disk, boot, driver }) => {
    const merged = await disk({ mergedRef: 'keep' });
    const machine = await boot(merged, 'create-keep-merged');
    const refs = await snapshotRefs(driver(machine).shell, 'booted keep-merged disk');
    expect(refs.images).toEqual([merged.image?.reference]);
    expect([...refs.layers].sort()).toEqual([...(merged.image?.layers ?? [])].sort());
  });
});
