/**
 * The price the seed PR saved, measured on the wire: a legacy disk (no layer refs) rebasing to the image
 * derived from its own downloads every layer, where the default disk (rebase-derived.e2e.ts) downloads
 * one. Its own file because it is the longest rebase (every layer imported): the suite packs files, not
 * scenarios, into its parallel workers.
 * Needs the reference OS content (the derived image is built on the reference image): skipped elsewhere.
 */
import { describe, expect } from 'vitest';
import { attachCommandOutput, attachProxyRequests, scenario, worldsForFile } from '../harness/testing.js';
import { RegistryWorld } from '../harness/worlds.js';

describe('rebase-legacy', () => {
  let world!: RegistryWorld;
  worldsForFile(async (keep) => {
    world = keep(await RegistryWorld.start());
  });

  scenario('legacy disk: without layer refs the same rebase downloads every layer', async ({ needs, disk, boot, driver, metric }) => {
    needs('reference-content');
    const machine = await boot(await disk({ layerRefs: 'drop' }), 'rebase-legacy', { from: 'saved-state', guestfwds: [world.guestfwd] });
    const updater = driver(machine);
    expect((await updater.refs()).layers).toEqual([]);

    world.proxy.reset();
    const update = await updater.rebase(world.guestImage('derived'));
    await attachCommandOutput('updater: rebase to the derived image', update.result);
    await attachProxyRequests('registry requests of the rebase', world.proxy);
    expect(update.ok, update.result.stderr).toBe(true);

    const all = world.derived.image.manifest.layers.map((l) => l.digest);
    const manifest = world.derived.image;
    expect([...world.proxy.bytesByBlob().keys()].sort()).toEqual([...all, manifest.configDigest].sort());
    const measured = world.proxy.totalBytes();
    expect(measured).toBe(world.derivedLayerBytes(all) + manifest.manifest.config.size + manifest.manifestBytes.length);
    expect(update.layers?.needed).toBe(all.length);
    metric('rebase.derived.legacy.bytes', measured, 'bytes');
  });
});
