/**
 * The seed's promise, measured on the wire: because the disk keeps its layer refs, rebasing to an image
 * derived from it downloads only what the derived image added (plus manifest and config); the legacy
 * disk's rebase, which downloads every layer, is rebase-legacy.e2e.ts. Bad content and a registry dying
 * mid-pull fail cleanly and leave the machine booting what it had.
 * Needs the reference OS content (the derived image is built on the reference image): skipped elsewhere.
 */
import { describe, expect } from 'vitest';
import { derivedLine } from '../harness/oci/derive.js';
import { DERIVED_SEED } from '../harness/fixtures/derived.js';
import { layerRef } from '../harness/ostree/index.js';
import { attachCommandOutput, attachProxyRequests, scenario, snapshotRefs, worldsForFile } from '../harness/testing.js';
import { RegistryWorld } from '../harness/worlds.js';

describe('rebase-derived', () => {
  let world!: RegistryWorld;
  worldsForFile(async (keep) => {
    world = keep(await RegistryWorld.start());
  });

  const derivedLayers = () => world.derived.image.manifest.layers;

  scenario('default disk: only the layer the disk lacked crosses the wire', async ({ needs, disk, boot, driver, metric }) => {
    needs('reference-content');
    const machine = await boot(await disk(), 'rebase-default', { from: 'saved-state', guestfwds: [world.guestfwd] });
    const updater = driver(machine);

    const before = await snapshotRefs(machine, 'before rebase');
    const lacked = derivedLayers().map((l) => l.digest).filter((d) => !before.layers.includes(d));
    expect(lacked).toEqual([world.derived.layer.digest]);

    world.proxy.reset();
    const started = performance.now();
    const update = await updater.rebase(world.guestImage('derived'));
    const rebaseMs = performance.now() - started;
    await attachCommandOutput('updater: rebase to the derived image', update.result);
    await attachProxyRequests('registry requests of the rebase', world.proxy);
    await snapshotRefs(machine, 'after rebase (staged)');
    expect(update.ok, update.result.stderr).toBe(true);

    const manifest = world.derived.image;
    const fetched = [...world.proxy.bytesByBlob().keys()].sort();
    expect(fetched).toEqual([...lacked, manifest.configDigest].sort());
    const lackedBytes = world.derivedLayerBytes(lacked);
    const floor = lackedBytes + manifest.manifest.config.size + manifest.manifestBytes.length;
    const measured = world.proxy.totalBytes();
    expect(measured).toBe(floor);

    // The updater's own account agrees with the wire: one layer needed, of that size (as printed, rounded).
    expect(update.layers?.needed).toBe(lacked.length);
    expect(update.layers?.present).toBe(derivedLayers().length - lacked.length);
    expect(Math.abs((update.layers?.neededBytes ?? 0) - lackedBytes)).toBeLessThanOrEqual(lackedBytes * 0.01 + 1000);

    expect((await updater.staged())?.containerImageDigest).toBe(manifest.manifestDigest);
    await machine.reboot();
    const booted = await updater.booted();
    expect(booted.containerImageDigest).toBe(manifest.manifestDigest);
    expect(booted.containerImageReference).toBe(world.guestImage('derived'));
    expect((await machine.succeed(['layercheck-derived'])).trim()).toBe(derivedLine(DERIVED_SEED));
    expect((await snapshotRefs(machine, 'after reboot')).layers.sort()).toEqual(derivedLayers().map((l) => l.digest).sort());

    metric('rebase.derived.bytes', measured, 'bytes');
    metric('rebase.derived.floor.bytes', floor, 'bytes');
    metric('rebase.derived.ms', rebaseMs, 'ms');
  });

  scenario('a registry that dies mid-pull: a clear error, nothing staged, the machine boots what it had', async ({ needs, disk, boot, driver }) => {
    needs('reference-content');
    const machine = await boot(await disk(), 'rebase-registry-dies', { from: 'saved-state', guestfwds: [world.guestfwd] });
    const updater = driver(machine);
    const bootedBefore = await updater.bootedCommit();

    const layer = world.derived.layer.digest;
    const fault = world.proxy.inject({ kind: 'reset-after-bytes', bytes: 64 * 1024, match: new RegExp(`/blobs/${layer}$`) });
    const update = await updater.rebase(world.guestImage('derived')).finally(() => fault.remove());
    await attachCommandOutput('updater: rebase while the registry dies', update.result);
    expect(fault.hits).toBeGreaterThan(0);
    expect(update.ok).toBe(false);
    expect(update.result.stderr).toMatch(/^error: .*(fetching|reset|incomplete|connection)/im);
    expect(await updater.staged()).toBeUndefined();
    expect((await updater.refs()).layers).not.toContain(layer);

    await machine.reboot();
    expect(await updater.bootedCommit()).toBe(bootedBefore);
  });

  // Last: it corrupts the derived layer in the registry for good.
  scenario('a blob that does not match its digest fails the rebase, naming the digest', async ({ needs, disk, boot, driver }) => {
    needs('reference-content');
    const machine = await boot(await disk(), 'rebase-bad-blob', { from: 'saved-state', guestfwds: [world.guestfwd] });
    const updater = driver(machine);
    const layer = world.derived.layer.digest;
    await world.registry.corruptBlob(layer);

    const update = await updater.rebase(world.guestImage('derived'));
    await attachCommandOutput('updater: rebase to a corrupted blob', update.result);
    expect(update.ok).toBe(false);
    expect(update.result.stderr).toContain(layer);
    expect(update.result.stderr).toMatch(/digest/i);
    expect(await updater.staged()).toBeUndefined();
    expect((await updater.refs()).layers).not.toContain(layer);
    expect(await machine.execute(['ostree', 'rev-parse', layerRef(layer)])).toMatchObject({ exitCode: 1 });
  });
});
