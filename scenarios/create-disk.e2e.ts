/**
 * The seed's first claim (coreos-assembler PR 3359): a disk built from a container image keeps one
 * ostree ref per image layer and drops the merged image ref, and the deployed commit still knows
 * which image it came from. The legacy and keep-merged disks show each assertion can fail.
 */
import { describe, expect } from 'vitest';
import { referenceDisk, referenceImage } from '../harness/fixtures/index.js';
import { ostreeOf, scenario, snapshotRefs } from '../harness/testing.js';
import { sha256File } from '../harness/util/index.js';

describe('create-disk', () => {
  scenario('default disk: one layer ref per image layer, no merged image ref', async ({ boot, metric }) => {
    const { image } = await referenceImage();
    const { disk } = await referenceDisk();
    const baseChecksum = await sha256File(disk.qcow2);
    const machine = await boot(disk, 'create-default');
    const guest = ostreeOf(machine);

    const refs = await snapshotRefs(machine, 'booted default disk');
    const layers = image.manifest.layers.map((l) => l.digest);
    expect(refs.layers.sort()).toEqual([...layers].sort());
    expect(refs.images).toEqual([]);

    const booted = await guest.bootedCommit();
    expect(await guest.commitMetadata(booted, 'ostree.manifest-digest')).toBe(image.manifestDigest);

    metric('boot.to_ssh.ms', machine.bootToSshMs ?? Number.NaN, 'ms');
    metric('image.layers.count', layers.length, 'count');
    metric('image.layers.bytes', image.manifest.layers.reduce((n, l) => n + l.size, 0), 'bytes');
    metric('disk.qcow2.bytes', disk.qcow2Bytes, 'bytes');

    // The machine wrote only to its overlay: the base disk is byte for byte what the builder made.
    await machine.dispose();
    expect(await sha256File(disk.qcow2)).toBe(baseChecksum);
  });

  scenario('legacy disk (before the seed PR): no layer refs at all', async ({ boot }) => {
    const { image } = await referenceImage();
    const { disk } = await referenceDisk({ layerRefs: 'drop' });
    const machine = await boot(disk, 'create-legacy');
    const guest = ostreeOf(machine);

    const refs = await snapshotRefs(machine, 'booted legacy disk');
    expect(refs.layers).toEqual([]);
    expect(refs.images).toEqual([]);
    // The deployed commit is the same merged commit: only the refs differ.
    expect(await guest.commitMetadata(await guest.bootedCommit(), 'ostree.manifest-digest')).toBe(image.manifestDigest);
  });

  scenario('keep-merged disk: the merged image ref is there', async ({ boot }) => {
    const { disk } = await referenceDisk({ mergedRef: 'keep' });
    const machine = await boot(disk, 'create-keep-merged');
    const refs = await snapshotRefs(machine, 'booted keep-merged disk');
    expect(refs.images).toEqual([disk.image.reference]);
    expect(refs.layers.sort()).toEqual([...disk.image.layers].sort());
  });
});
